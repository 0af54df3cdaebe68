//! Inline SVG charts: horizontal bar charts (top movers, volatility, drawdown) and the price
//! with its moving averages for one symbol. Plain SVG text, drawn at a fixed view box and
//! scaled by the page's CSS, so the page needs no script and no font or file from outside.
//!
//! Every chart is `<svg class="chart" data-insight="NAME">`; every drawn datum carries a
//! class (`bar`, `series`, `marker`) and the legend swatches do not, so a test counts data
//! by counting classes.

use super::format::{day, escape, fixed};
use super::palette::{AXIS, GAIN, GRID, INK, LOSS, MA200, MA50, PRICE};
use chrono::{Datelike, Duration, NaiveDate};
use std::fmt::Write as _;

/// Round tick values covering `[lo, hi]`, about `n` intervals, steps of 1, 2, 2.5 or 5 times
/// a power of ten. The first and last tick bound the axis.
pub(crate) fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (mut lo, mut hi) = (lo.min(hi), lo.max(hi));
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        // One value (or none): a small band around it, so the axis still has a scale.
        let pad = if lo == 0.0 { 0.01 } else { lo.abs() * 0.05 };
        lo -= pad;
        hi += pad;
    }
    let step = nice_step((hi - lo) / n.max(1) as f64);
    let first = (lo / step).floor();
    let last = (hi / step).ceil();
    let round = |v: f64| {
        // Clear float noise (0.30000000000000004) so labels and zero lines are exact.
        let scale = 10f64.powi(12 - v.abs().max(step).log10().ceil() as i32);
        (v * scale).round() / scale
    };
    (0..=(last - first) as i64)
        .map(|k| round((first + k as f64) * step))
        .collect()
}

fn nice_step(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    mag * if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    }
}

/// Decimals that tell ticks `step` apart.
fn tick_decimals(step: f64) -> usize {
    if step <= 0.0 || !step.is_finite() {
        return 0;
    }
    let mut d = 0;
    while d < 8
        && ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() > 1e-9
    {
        d += 1;
    }
    d
}

/// A tick label for a fraction shown as percent (`-0.25` → `-25%`).
pub(crate) fn percent_tick(v: f64, step: f64) -> String {
    format!("{}%", fixed(v * 100.0, tick_decimals(step * 100.0)))
}

/// A tick label for a price.
pub(crate) fn price_tick(v: f64, step: f64) -> String {
    fixed(v, tick_decimals(step))
}

/// Date ticks between `lo` and `hi`, at most `max`: month starts (every 1, 2, 3, 6 or 12+
/// months) when the span has two or more, else days.
fn date_ticks(lo: NaiveDate, hi: NaiveDate, max: usize) -> Vec<(NaiveDate, String)> {
    let month_index = |d: NaiveDate| d.year() * 12 + d.month0() as i32;
    // The smallest step with at most `max` ticks; failing that (a span of decades) the last
    // step that still had two.
    let mut chosen: Option<(i32, Vec<NaiveDate>)> = None;
    for step in [1, 2, 3, 6, 12, 24, 60, 120] {
        let ticks: Vec<NaiveDate> = (month_index(lo)..=month_index(hi))
            .filter(|m| m.rem_euclid(step) == 0)
            .filter_map(|m| {
                NaiveDate::from_ymd_opt(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1)
            })
            .filter(|d| *d >= lo && *d <= hi)
            .collect();
        if ticks.len() < 2 {
            break;
        }
        let done = ticks.len() <= max;
        chosen = Some((step, ticks));
        if done {
            break;
        }
    }
    if let Some((step, ticks)) = chosen {
        return ticks
            .iter()
            .enumerate()
            .map(|(k, d)| {
                let label = if step >= 12 {
                    d.format("%Y").to_string()
                } else if k == 0 || d.month() == 1 {
                    d.format("%b %Y").to_string()
                } else {
                    d.format("%b").to_string()
                };
                (*d, label)
            })
            .collect();
    }
    let span = (hi - lo).num_days();
    let step = [1, 2, 7, 14, 28]
        .into_iter()
        .find(|s| span / s < max as i64)
        .unwrap_or(28);
    (0..=span / step)
        .map(|k| lo + Duration::days(k * step))
        .map(|d| (d, d.format("%-d %b").to_string()))
        .collect()
}

/// Opens a chart's `<svg>` with its data-insight and an accessible name.
fn open(out: &mut String, insight: &str, extra: &str, width: f64, height: f64, name: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" data-insight="{}"{extra} viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}">"#,
        escape(insight),
        escape(name),
    );
}

/// Approximate width of `text` at `size` px in a sans-serif face, for laying out labels
/// without measuring fonts.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.58
}

/// One legend entry: a colour and what it means.
pub(crate) struct Legend<'a> {
    pub(crate) label: &'a str,
    pub(crate) colour: &'a str,
    pub(crate) shape: Swatch,
}

/// The shape of a legend swatch: like the data it explains.
#[derive(Clone, Copy)]
pub(crate) enum Swatch {
    Block,
    Line,
    Up,
    Down,
}

/// Draws a legend row centred on `y`, starting at `x`, or ending there when `align_right`.
fn legend(out: &mut String, items: &[Legend], x: f64, y: f64, align_right: bool) {
    let size = 12.0;
    let widths: Vec<f64> = items
        .iter()
        .map(|i| 18.0 + text_width(i.label, size) + 14.0)
        .collect();
    let mut cx = if align_right {
        x - widths.iter().sum::<f64>()
    } else {
        x
    };
    for (item, w) in items.iter().zip(&widths) {
        let c = item.colour;
        match item.shape {
            Swatch::Block => {
                let _ = write!(
                    out,
                    r#"<rect class="swatch" x="{cx:.1}" y="{:.1}" width="12" height="12" rx="2" fill="{c}"/>"#,
                    y - 6.0
                );
            }
            Swatch::Line => {
                let _ = write!(
                    out,
                    r#"<line class="swatch" x1="{cx:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{c}" stroke-width="3" stroke-linecap="round"/>"#,
                    cx + 13.0
                );
            }
            Swatch::Up | Swatch::Down => {
                let _ = write!(
                    out,
                    r#"<path class="swatch" d="{}" fill="{c}" stroke="white" stroke-width="1"/>"#,
                    triangle(cx + 6.0, y, matches!(item.shape, Swatch::Up))
                );
            }
        }
        let _ = write!(
            out,
            r#"<text class="legend" x="{:.1}" y="{y:.1}" dy="0.35em">{}</text>"#,
            cx + 18.0,
            escape(item.label)
        );
        cx += w;
    }
}

/// A triangle centred at (x, y) pointing up or down.
fn triangle(x: f64, y: f64, up: bool) -> String {
    let s = if up { 1.0 } else { -1.0 };
    format!(
        "M{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z",
        x,
        y - 6.0 * s,
        x - 6.0,
        y + 4.5 * s,
        x + 6.0,
        y + 4.5 * s
    )
}

/// One bar of a bar chart.
pub(crate) struct Bar {
    /// Row label (the symbol).
    pub(crate) label: String,
    pub(crate) value: f64,
    /// The value as shown next to the bar.
    pub(crate) text: String,
    /// Extra class after `bar` (`gain`, `loss`, …).
    pub(crate) class: &'static str,
    pub(crate) colour: &'static str,
}

/// A horizontal bar chart of values that are fractions (returns, volatility, drawdown),
/// with a zero line, percent ticks, one row per bar in the given order.
pub(crate) struct BarChart<'a> {
    pub(crate) insight: &'a str,
    pub(crate) title: &'a str,
    pub(crate) bars: Vec<Bar>,
    pub(crate) legend: Vec<Legend<'a>>,
}

/// At most `max` characters of `text`, cut with an ellipsis: a label must not run off the
/// chart (the bar's tooltip keeps the whole text).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars().take(max - 1).chain(['…']).collect()
    }
}

/// Longest row label of a bar chart, in characters.
const LABEL_CHARS: usize = 22;

/// Draws a bar chart; `None` when there is no bar.
pub(crate) fn bar_chart(chart: &BarChart) -> Option<String> {
    if chart.bars.is_empty() {
        return None;
    }
    const WIDTH: f64 = 960.0;
    const TOP: f64 = 44.0;
    const ROW: f64 = 28.0;
    const BAR: f64 = 18.0;
    // Room beside the zero line's far ends for the value labels.
    const VALUE_ROOM: f64 = 78.0;
    let n = chart.bars.len() as f64;
    let bottom = TOP + n * ROW;
    let height = bottom + 30.0;
    let label_w = chart
        .bars
        .iter()
        .map(|b| text_width(&clip(&b.label, LABEL_CHARS), 13.0))
        .fold(40.0, f64::max)
        .min(200.0)
        + 18.0;
    let lo = chart.bars.iter().map(|b| b.value).fold(0.0, f64::min);
    let hi = chart.bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let ticks = nice_ticks(lo, hi, 5);
    let step = ticks.get(1).map_or(1.0, |t| t - ticks[0]);
    let (t0, t1) = (ticks[0], ticks[ticks.len() - 1]);
    let left = label_w + if lo < 0.0 { VALUE_ROOM } else { 8.0 };
    let right = WIDTH - if hi > 0.0 { VALUE_ROOM } else { 16.0 };
    let x = |v: f64| left + (v - t0) / (t1 - t0) * (right - left);

    let mut out = String::with_capacity(2048 + chart.bars.len() * 400);
    open(&mut out, chart.insight, "", WIDTH, height, chart.title);
    let _ = write!(
        out,
        r#"<text class="chart-title" x="4" y="20">{}</text>"#,
        escape(chart.title)
    );
    legend(&mut out, &chart.legend, WIDTH - 4.0, 16.0, true);
    out.push_str(r#"<g class="grid">"#);
    for &t in &ticks {
        let colour = if t == 0.0 { AXIS } else { GRID };
        let _ = write!(
            out,
            r#"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="{colour}" stroke-width="1"/><text class="tick" x="{0:.1}" y="{3:.1}" text-anchor="middle">{4}</text>"#,
            x(t),
            TOP - 6.0,
            bottom,
            bottom + 18.0,
            escape(&percent_tick(t, step)),
        );
    }
    out.push_str("</g>");
    for (k, b) in chart.bars.iter().enumerate() {
        let cy = TOP + (k as f64 + 0.5) * ROW;
        let (x0, x1) = (x(0.0), x(b.value));
        let _ = write!(
            out,
            r#"<text class="label" x="{:.1}" y="{cy:.1}" dy="0.35em" text-anchor="end">{}</text>"#,
            label_w - 6.0,
            escape(&clip(&b.label, LABEL_CHARS))
        );
        let _ = write!(
            out,
            r#"<rect class="bar {}" x="{:.1}" y="{:.1}" width="{:.1}" height="{BAR}" rx="2" fill="{}"><title>{}: {}</title></rect>"#,
            b.class,
            x0.min(x1),
            cy - BAR / 2.0,
            (x1 - x0).abs(),
            b.colour,
            escape(&b.label),
            escape(&b.text),
        );
        let (tx, anchor) = if b.value < 0.0 {
            (x1 - 6.0, "end")
        } else {
            (x1 + 6.0, "start")
        };
        let _ = write!(
            out,
            r#"<text class="value" x="{tx:.1}" y="{cy:.1}" dy="0.35em" text-anchor="{anchor}">{}</text>"#,
            escape(&b.text)
        );
    }
    // The zero line over the bars' ends.
    let _ = write!(
        out,
        r#"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="{INK}" stroke-width="1"/>"#,
        x(0.0),
        TOP - 6.0,
        bottom
    );
    out.push_str("</svg>");
    Some(out)
}

/// One trading day of one symbol for the moving-average chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Day {
    pub(crate) date: NaiveDate,
    pub(crate) price: Option<f64>,
    pub(crate) ma50: Option<f64>,
    pub(crate) ma200: Option<f64>,
    /// `golden_cross`, `death_cross` or none.
    pub(crate) signal: Option<String>,
}

/// The price of one symbol with its 50- and 200-day moving averages, crosses marked. Days
/// in date order; a missing value breaks its line rather than bridging the gap. `None`
/// when no day has a value.
pub(crate) fn moving_average_chart(insight: &str, symbol: &str, days: &[Day]) -> Option<String> {
    let values = || {
        days.iter()
            .flat_map(|d| [d.price, d.ma50, d.ma200])
            .flatten()
    };
    let lo = values().fold(f64::INFINITY, f64::min);
    let hi = values().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return None;
    }
    const WIDTH: f64 = 560.0;
    const HEIGHT: f64 = 260.0;
    const LEFT: f64 = 62.0;
    const RIGHT: f64 = 14.0;
    const TOP: f64 = 54.0;
    const BOTTOM: f64 = 30.0;
    let ticks = nice_ticks(lo, hi, 4);
    let step = ticks.get(1).map_or(1.0, |t| t - ticks[0]);
    let (t0, t1) = (ticks[0], ticks[ticks.len() - 1]);
    let (first, last) = (days[0].date, days[days.len() - 1].date);
    let span = (last - first).num_days().max(1) as f64;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_bottom = HEIGHT - BOTTOM;
    let x = |d: NaiveDate| {
        if first == last {
            LEFT + plot_w / 2.0
        } else {
            LEFT + (d - first).num_days() as f64 / span * plot_w
        }
    };
    let y = |v: f64| plot_bottom - (v - t0) / (t1 - t0) * (plot_bottom - TOP);

    let mut out = String::with_capacity(4096 + days.len() * 60);
    open(
        &mut out,
        insight,
        &format!(r#" data-symbol="{}""#, escape(symbol)),
        WIDTH,
        HEIGHT,
        &format!("{symbol}: price with 50- and 200-day moving averages"),
    );
    // Title: the symbol, its last price and its change over the days shown.
    let _ = write!(
        out,
        r#"<text class="chart-title" x="4" y="20">{}</text>"#,
        escape(symbol)
    );
    let prices: Vec<f64> = days.iter().filter_map(|d| d.price).collect();
    if let (Some(&p0), Some(&p1)) = (prices.first(), prices.last()) {
        let mut headline = escape(&super::format::price(p1));
        if p0 != 0.0 && prices.len() > 1 {
            let change = p1 / p0 - 1.0;
            let class = if change > 0.0 {
                "pos"
            } else if change < 0.0 {
                "neg"
            } else {
                "flat"
            };
            let _ = write!(
                headline,
                r#"<tspan class="{class}" dx="8">{}</tspan>"#,
                escape(&super::format::signed_percent(change))
            );
        }
        let _ = write!(
            out,
            r#"<text class="headline" x="{:.1}" y="20" text-anchor="end">{headline}</text>"#,
            WIDTH - RIGHT,
        );
    }
    let has = |s: &str| days.iter().any(|d| d.signal.as_deref() == Some(s));
    let mut items = vec![
        Legend {
            label: "Price",
            colour: PRICE,
            shape: Swatch::Line,
        },
        Legend {
            label: "50-day MA",
            colour: MA50,
            shape: Swatch::Line,
        },
        Legend {
            label: "200-day MA",
            colour: MA200,
            shape: Swatch::Line,
        },
    ];
    if has("golden_cross") {
        items.push(Legend {
            label: "Golden cross",
            colour: GAIN,
            shape: Swatch::Up,
        });
    }
    if has("death_cross") {
        items.push(Legend {
            label: "Death cross",
            colour: LOSS,
            shape: Swatch::Down,
        });
    }
    legend(&mut out, &items, 4.0, 38.0, false);

    out.push_str(r#"<g class="grid">"#);
    for &t in &ticks {
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="{GRID}" stroke-width="1"/><text class="tick" x="{2:.1}" y="{0:.1}" dy="0.35em" text-anchor="end">{3}</text>"#,
            y(t),
            WIDTH - RIGHT,
            LEFT - 6.0,
            escape(&price_tick(t, step)),
        );
    }
    for (d, label) in date_ticks(first, last, 6) {
        let _ = write!(
            out,
            r#"<line x1="{0:.1}" y1="{plot_bottom}" x2="{0:.1}" y2="{1:.1}" stroke="{AXIS}" stroke-width="1"/><text class="tick" x="{0:.1}" y="{2:.1}" text-anchor="middle">{3}</text>"#,
            x(d),
            plot_bottom + 4.0,
            plot_bottom + 18.0,
            escape(&label),
        );
    }
    let _ = write!(
        out,
        r#"<line x1="{LEFT}" y1="{plot_bottom}" x2="{:.1}" y2="{plot_bottom}" stroke="{AXIS}" stroke-width="1"/>"#,
        WIDTH - RIGHT
    );
    out.push_str("</g>");

    // The averages under the price, so the price stays readable where they meet.
    let series = [
        ("ma200", "200-day MA", MA200),
        ("ma50", "50-day MA", MA50),
        ("price", "Price", PRICE),
    ];
    for (class, name, colour) in series {
        let get = |d: &Day| match class {
            "ma200" => d.ma200,
            "ma50" => d.ma50,
            _ => d.price,
        };
        let mut path = String::new();
        let mut pen_down = false;
        for d in days {
            match get(d) {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1} {:.1}",
                        if pen_down { 'L' } else { 'M' },
                        x(d.date),
                        y(v)
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = write!(
                out,
                r#"<path class="series {class}" d="{path}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"><title>{}</title></path>"#,
                escape(name)
            );
        }
    }
    for d in days {
        let (class, up, colour) = match d.signal.as_deref() {
            Some("golden_cross") => ("golden-cross", true, GAIN),
            Some("death_cross") => ("death-cross", false, LOSS),
            _ => continue,
        };
        let Some(v) = d.ma50.or(d.price) else {
            continue;
        };
        let _ = write!(
            out,
            r#"<path class="marker {class}" d="{}" fill="{colour}" stroke="white" stroke-width="1.5"><title>{} on {}</title></path>"#,
            triangle(x(d.date), y(v), up),
            if up { "Golden cross" } else { "Death cross" },
            escape(&day(&d.date.to_string())),
        );
    }
    out.push_str("</svg>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn ticks_are_round_and_cover_the_data() {
        assert_eq!(nice_ticks(0.0, 0.93, 5), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(
            nice_ticks(-0.31, 0.12, 5),
            [-0.4, -0.3, -0.2, -0.1, 0.0, 0.1, 0.2]
        );
        assert_eq!(
            nice_ticks(27_410.0, 31_085.0, 4),
            [27_000.0, 28_000.0, 29_000.0, 30_000.0, 31_000.0, 32_000.0]
        );
        let flat = nice_ticks(100.0, 100.0, 4);
        assert!(flat[0] < 100.0 && *flat.last().unwrap() > 100.0, "{flat:?}");
        let zero = nice_ticks(0.0, 0.0, 4);
        assert!(zero.len() >= 2 && zero.contains(&0.0), "{zero:?}");
        assert_eq!(percent_tick(-0.25, 0.05), "-25%");
        assert_eq!(percent_tick(0.025, 0.025), "2.5%");
        assert_eq!(price_tick(28_000.0, 1000.0), "28,000");
        assert_eq!(price_tick(1.5, 0.5), "1.5");
    }

    #[test]
    fn date_ticks_use_months_or_days() {
        let half_year = date_ticks(d("2021-01-04"), d("2021-06-30"), 6);
        let labels: Vec<&str> = half_year.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["Feb 2021", "Mar", "Apr", "May", "Jun"]);
        let years = date_ticks(d("2015-03-01"), d("2021-06-30"), 6);
        assert!(
            years.iter().all(|(d, l)| d.month() == 1 && l.len() == 4),
            "{years:?}"
        );
        for (lo, hi) in [("1990-01-01", "2021-06-30"), ("2006-02-01", "2021-06-30")] {
            let decades = date_ticks(d(lo), d(hi), 6);
            assert!((2..=8).contains(&decades.len()), "{decades:?}");
        }
        let weeks = date_ticks(d("2021-01-04"), d("2021-01-29"), 6);
        assert_eq!(weeks[0].1, "4 Jan");
        assert!(weeks.len() <= 6);
    }

    fn bars(values: &[f64]) -> BarChart<'static> {
        BarChart {
            insight: "top_movers",
            title: "Return",
            bars: values
                .iter()
                .enumerate()
                .map(|(k, &v)| Bar {
                    label: format!("S{k}<&>"),
                    value: v,
                    text: super::super::format::signed_percent(v),
                    class: if v >= 0.0 { "gain" } else { "loss" },
                    colour: if v >= 0.0 { GAIN } else { LOSS },
                })
                .collect(),
            legend: vec![Legend {
                label: "Gainers",
                colour: GAIN,
                shape: Swatch::Block,
            }],
        }
    }

    #[test]
    fn bar_chart_draws_one_bar_per_value_from_zero() {
        let svg = bar_chart(&bars(&[0.2, 0.05, -0.1])).unwrap();
        assert!(svg.starts_with(r#"<svg class="chart" data-insight="top_movers""#));
        assert_eq!(svg.matches(r#"class="bar "#).count(), 3);
        assert_eq!(svg.matches(r#"class="bar gain""#).count(), 2);
        assert_eq!(svg.matches(r#"class="swatch""#).count(), 1);
        assert!(svg.contains("S0&lt;&amp;&gt;") && !svg.contains("S0<&>"));
        assert!(svg.contains(">+20.00%<") && svg.contains(">-10.00%<"));
        // Gains start where losses end: at the zero line.
        let xs: Vec<f64> = svg
            .match_indices(r#"class="bar "#)
            .map(|(i, _)| {
                let rest = &svg[i..];
                let x = rest.split("x=\"").nth(1).unwrap();
                x[..x.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(xs[0], xs[1]);
        assert!(xs[2] < xs[0]);
        assert!(bar_chart(&bars(&[])).is_none());
        // A long label is cut on the axis and whole in the tooltip.
        let mut long = bars(&[0.1]);
        long.bars[0].label = "A_VERY_LONG_INSTRUMENT_NAME_&_MORE".into();
        let svg = bar_chart(&long).unwrap();
        assert!(svg.contains(">A_VERY_LONG_INSTRUMEN…<"), "{svg}");
        assert!(svg.contains("<title>A_VERY_LONG_INSTRUMENT_NAME_&amp;_MORE: +10.00%</title>"));
        // All zero (no drawdown at all) still draws, with zero-width bars.
        assert_eq!(
            bar_chart(&bars(&[0.0, 0.0]))
                .unwrap()
                .matches("width=\"0.0\"")
                .count(),
            2
        );
    }

    fn days(n: usize) -> Vec<Day> {
        (0..n)
            .map(|k| Day {
                date: d("2021-01-04") + Duration::days(k as i64),
                price: Some(100.0 + k as f64),
                ma50: (k >= 3).then_some(100.0),
                ma200: (k != 5).then_some(99.0),
                signal: (k == 6).then(|| "golden_cross".to_string()),
            })
            .collect()
    }

    #[test]
    fn moving_average_chart_draws_three_series_and_the_crosses() {
        let svg = moving_average_chart("moving_averages", "A&B", &days(30)).unwrap();
        assert!(svg.contains(r#"data-insight="moving_averages" data-symbol="A&amp;B""#));
        assert_eq!(svg.matches(r#"class="series "#).count(), 3);
        assert_eq!(svg.matches(r#"class="marker golden-cross""#).count(), 1);
        assert_eq!(svg.matches(r#"class="marker death-cross""#).count(), 0);
        assert!(svg.contains(">Golden cross<") && !svg.contains(">Death cross<"));
        // The 200-day line has a gap on day 5: it restarts with a second move-to.
        let ma200 = svg.split(r#"class="series ma200" d=""#).nth(1).unwrap();
        let ma200 = &ma200[..ma200.find('"').unwrap()];
        assert_eq!(ma200.matches('M').count(), 2, "{ma200}");
        assert!(svg.contains("+29.00%"), "change over the days shown");
    }

    #[test]
    fn moving_average_chart_without_values_is_skipped() {
        let mut empty = days(3);
        for d in &mut empty {
            (d.price, d.ma50, d.ma200) = (None, None, None);
        }
        assert!(moving_average_chart("moving_averages", "X", &empty).is_none());
        assert!(moving_average_chart("moving_averages", "X", &[]).is_none());
        let one = moving_average_chart("moving_averages", "X", &days(1)).unwrap();
        assert_eq!(
            one.matches(r#"class="series "#).count(),
            2,
            "ma50 has no value on day 0"
        );
    }
}
