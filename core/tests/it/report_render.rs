//! The insight report rendered from a realistic report built by hand: seven symbols of
//! synthetic prices (with a late listing, so some averages are null), all ten insights
//! computed from them the way the SQL files define them, and one failed insight whose error
//! text is hostile markup. Checks properties, not snapshots: the CSV reads back to the same
//! cells, the JSON to the same report, and the HTML has one chart per expected chart with one
//! element per datum, escapes all data and shows the failure.
//!
//! `sample::report()` is shared with the `report_screenshot` module of this test binary.

use serde_json::Value;
use stockstream_core::report::{to_csv, to_html, to_json, InsightResult, Report};

/// A realistic report built by hand.
pub mod sample {
    use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};
    use serde_json::{json, Value};
    use stockstream_core::generate::Rng;
    use stockstream_core::insights::{self, Params};
    use stockstream_core::report::{InsightResult, Report};

    /// The error text of the failed insight: data, and hostile.
    pub const ERROR: &str = "Athena query failed: SYNTAX_ERROR: line 12:7: Column 'x' cannot be \
        resolved <script>alert(\"pwned\")</script> & 'more' [queryId=7f3c…]";

    /// The symbol with markup characters in its name.
    pub const ODD_SYMBOL: &str = "S&P/TSX";

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// One symbol's trading days.
    pub struct Series {
        pub symbol: String,
        pub days: Vec<NaiveDate>,
        pub price: Vec<f64>,
        pub volume: Vec<f64>,
    }

    /// (symbol, first day, first price, daily vol, drift before and after 2020-11-02).
    /// Trend changes make golden and death crosses inside the window.
    const SPECS: [(&str, &str, f64, f64, f64, f64); 7] = [
        ("HSI", "2019-11-25", 26_500.0, 0.011, 0.0015, -0.0016),
        ("N225", "2019-11-25", 23_100.0, 0.012, -0.0012, 0.0018),
        ("GDAXI", "2019-11-25", 13_200.0, 0.010, 0.0003, 0.0012),
        ("IXIC", "2019-11-25", 8_500.0, 0.014, 0.0016, 0.0009),
        ("000001.SS", "2019-11-25", 2_900.0, 0.009, 0.0010, -0.0007),
        ("NSEI", "2020-08-03", 11_100.0, 0.010, 0.0002, 0.0003),
        (ODD_SYMBOL, "2019-11-25", 17_000.0, 0.008, -0.0004, -0.0012),
    ];

    pub fn from() -> NaiveDate {
        d("2021-01-04")
    }

    pub fn to() -> NaiveDate {
        d("2021-06-30")
    }

    pub fn series() -> Vec<Series> {
        let switch = d("2020-11-02");
        SPECS
            .iter()
            .enumerate()
            .map(|(k, &(symbol, start, p0, vol, before, after))| {
                let mut rng = Rng::new(1000 + k as u64);
                let (mut days, mut price, mut volume) = (vec![], vec![], vec![]);
                let mut p = p0;
                let base = 2.0e8 * (1.0 + k as f64);
                let mut day = d(start);
                while day <= to() {
                    if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                        let drift = if day < switch { before } else { after };
                        p *= (drift + vol * rng.normal()).exp();
                        let mut v = (base * (0.8 + 0.4 * rng.unit())).round();
                        // A few days of heavy trading: the volume anomalies.
                        if rng.unit() < 0.012 {
                            v = (v * 2.2).round();
                        }
                        days.push(day);
                        price.push(p);
                        volume.push(v);
                    }
                    day += Duration::days(1);
                }
                Series {
                    symbol: symbol.to_string(),
                    days,
                    price,
                    volume,
                }
            })
            .collect()
    }

    fn date(day: NaiveDate) -> Value {
        json!(day.to_string())
    }

    fn num(v: Option<f64>) -> Value {
        v.map_or(Value::Null, |v| json!(v))
    }

    /// Index of the last day on or before `day`.
    fn on_or_before(s: &Series, day: NaiveDate) -> Option<usize> {
        s.days.iter().rposition(|d| *d <= day)
    }

    fn first_in_window(s: &Series) -> usize {
        s.days.iter().position(|d| *d >= from()).unwrap()
    }

    fn latest_close(all: &[Series]) -> Vec<Vec<Value>> {
        all.iter()
            .map(|s| {
                let n = s.days.len();
                let (c, p) = (s.price[n - 1], s.price[n - 2]);
                vec![
                    json!(s.symbol),
                    date(s.days[n - 1]),
                    json!(c),
                    date(s.days[n - 2]),
                    json!(p),
                    json!(c - p),
                    json!(c / p - 1.0),
                ]
            })
            .collect()
    }

    fn period_returns(all: &[Series]) -> Vec<Vec<Value>> {
        all.iter()
            .map(|s| {
                let last = s.days.len() - 1;
                let as_of = s.days[last];
                let back = |months: u32| {
                    on_or_before(s, as_of.checked_sub_months(Months::new(months)).unwrap())
                        .map(|i| s.price[last] / s.price[i] - 1.0)
                };
                let year_start = NaiveDate::from_ymd_opt(as_of.year(), 1, 1).unwrap();
                let ytd = on_or_before(s, year_start - Duration::days(1))
                    .map(|i| s.price[last] / s.price[i] - 1.0);
                vec![
                    json!(s.symbol),
                    date(as_of),
                    num(back(1)),
                    num(back(3)),
                    num(back(12)),
                    num(ytd),
                ]
            })
            .collect()
    }

    fn top_movers(all: &[Series]) -> Vec<Vec<Value>> {
        let mut moves: Vec<(&Series, usize, usize, f64)> = all
            .iter()
            .map(|s| {
                let (a, b) = (first_in_window(s), s.days.len() - 1);
                (s, a, b, s.price[b] / s.price[a] - 1.0)
            })
            .collect();
        moves.sort_by(|x, y| y.3.total_cmp(&x.3));
        let row = |side: &str, rank: usize, &(s, a, b, ret): &(&Series, usize, usize, f64)| {
            vec![
                json!(side),
                json!(rank),
                json!(s.symbol),
                date(s.days[a]),
                json!(s.price[a]),
                date(s.days[b]),
                json!(s.price[b]),
                json!(ret),
            ]
        };
        let mut rows: Vec<Vec<Value>> = moves
            .iter()
            .filter(|m| m.3 > 0.0)
            .take(5)
            .enumerate()
            .map(|(k, m)| row("gainer", k + 1, m))
            .collect();
        rows.extend(
            moves
                .iter()
                .rev()
                .filter(|m| m.3 < 0.0)
                .take(5)
                .enumerate()
                .map(|(k, m)| row("loser", k + 1, m)),
        );
        rows
    }

    fn volatility(all: &[Series]) -> Vec<Vec<Value>> {
        all.iter()
            .map(|s| {
                let r: Vec<f64> = (first_in_window(s)..s.days.len())
                    .map(|i| (s.price[i] / s.price[i - 1]).ln())
                    .collect();
                let n = r.len() as f64;
                let mean = r.iter().sum::<f64>() / n;
                let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                vec![
                    json!(s.symbol),
                    json!(r.len()),
                    json!(sd),
                    json!(sd * 252f64.sqrt()),
                ]
            })
            .collect()
    }

    fn average(s: &Series, i: usize, n: usize) -> Option<f64> {
        (i + 1 >= n).then(|| s.price[i + 1 - n..=i].iter().sum::<f64>() / n as f64)
    }

    /// Each symbol's daily rows (a named list), each with the symbol's latest cross.
    fn moving_averages(all: &[Series]) -> Vec<Vec<Value>> {
        let mut rows = vec![];
        for s in all {
            let first = rows.len();
            for i in first_in_window(s)..s.days.len() {
                let (m50, m200) = (average(s, i, 50), average(s, i, 200));
                let (p50, p200) = (average(s, i - 1, 50), average(s, i - 1, 200));
                let signal = match (p50, p200, m50, m200) {
                    (Some(a), Some(b), Some(c), Some(e)) if a <= b && c > e => {
                        json!("golden_cross")
                    }
                    (Some(a), Some(b), Some(c), Some(e)) if a >= b && c < e => json!("death_cross"),
                    _ => Value::Null,
                };
                rows.push(vec![
                    json!(s.symbol),
                    date(s.days[i]),
                    json!(s.price[i]),
                    num(m50),
                    num(m200),
                    signal,
                ]);
            }
            let latest = rows[first..]
                .iter()
                .rfind(|r| !r[5].is_null())
                .map_or((Value::Null, Value::Null), |r| (r[1].clone(), r[5].clone()));
            for row in &mut rows[first..] {
                row.push(latest.0.clone());
                row.push(latest.1.clone());
            }
        }
        rows
    }

    /// One row per symbol (every symbol): its last day, with its latest cross.
    pub fn moving_averages_per_symbol(all: &[Series]) -> Vec<Vec<Value>> {
        let daily = moving_averages(all);
        let mut rows: Vec<Vec<Value>> = vec![];
        for row in daily {
            match rows.last_mut() {
                Some(last) if last[0] == row[0] => *last = row,
                _ => rows.push(row),
            }
        }
        rows.sort_by(|a, b| a[0].as_str().cmp(&b[0].as_str()));
        rows
    }

    fn volume_anomalies(all: &[Series]) -> Vec<Vec<Value>> {
        let mut rows = vec![];
        for s in all {
            for i in first_in_window(s)..s.days.len() {
                let prior = &s.volume[i.saturating_sub(60)..i];
                if prior.len() < 20 {
                    continue;
                }
                let n = prior.len() as f64;
                let mean = prior.iter().sum::<f64>() / n;
                let sd = (prior.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                let z = (s.volume[i] - mean) / sd;
                if z.abs() >= 3.0 {
                    rows.push(vec![
                        json!(s.symbol),
                        date(s.days[i]),
                        json!(s.volume[i] as u64),
                        json!(prior.len()),
                        json!(mean),
                        json!(sd),
                        json!(z),
                    ]);
                }
            }
        }
        let total = rows.len();
        for row in &mut rows {
            row.push(json!(total));
        }
        rows
    }

    /// The same report of every symbol (`Params::symbols` empty): `moving_averages` one row
    /// per symbol, as its SQL returns them then.
    pub fn every_symbol_report() -> Report {
        let mut report = report();
        report.params.symbols.clear();
        let all = series();
        for r in &mut report.insights {
            if r.name == "moving_averages" {
                r.rows = moving_averages_per_symbol(&all);
            }
        }
        report
    }

    fn max_drawdown(all: &[Series]) -> Vec<Vec<Value>> {
        all.iter()
            .map(|s| {
                let w = first_in_window(s);
                let (mut peak, mut worst, mut trough) = (s.price[w], 0.0, w);
                let mut peak_at_trough = peak;
                for i in w..s.days.len() {
                    peak = peak.max(s.price[i]);
                    let dd = s.price[i] / peak - 1.0;
                    if dd < worst {
                        (worst, trough, peak_at_trough) = (dd, i, peak);
                    }
                }
                let peak_i = (w..=trough)
                    .rev()
                    .find(|&i| s.price[i] == peak_at_trough)
                    .unwrap();
                let recovery = (worst < 0.0)
                    .then(|| (trough + 1..s.days.len()).find(|&i| s.price[i] >= peak_at_trough))
                    .flatten()
                    .map(|i| date(s.days[i]));
                vec![
                    json!(s.symbol),
                    json!(worst),
                    date(s.days[peak_i]),
                    json!(peak_at_trough),
                    date(s.days[trough]),
                    json!(s.price[trough]),
                    recovery.unwrap_or(Value::Null),
                ]
            })
            .collect()
    }

    /// The per-symbol data quality: every symbol complete but IXIC, which misses two
    /// trading days; one stale run, one restated day and one implausible move, as
    /// `quality_issues` lists them.
    fn data_quality(all: &[Series]) -> Vec<Vec<Value>> {
        all.iter()
            .map(|s| {
                let w = first_in_window(s);
                let bars = s.days.len() - w;
                let missing = if s.symbol == "IXIC" { 2 } else { 0 };
                let expected = bars + missing;
                vec![
                    json!(s.symbol),
                    date(s.days[w]),
                    date(*s.days.last().unwrap()),
                    json!(bars),
                    json!(expected),
                    json!(missing),
                    json!(bars as f64 / expected as f64),
                    json!(usize::from(s.symbol == ODD_SYMBOL)),
                    json!(usize::from(s.symbol == "HSI")),
                    json!(usize::from(s.symbol == "N225")),
                ]
            })
            .collect()
    }

    /// The listing behind [`data_quality`]'s counts.
    fn quality_issues(all: &[Series]) -> Vec<Vec<Value>> {
        let n = Value::Null;
        let s = |symbol: &str| all.iter().find(|s| s.symbol == symbol).unwrap();
        let (hsi, n225, odd) = (s("HSI"), s("N225"), s(ODD_SYMBOL));
        let r = (n225.price[60] / n225.price[59]).ln();
        vec![
            vec![
                json!("implausible_move"),
                json!(1),
                json!(1),
                json!("N225"),
                date(n225.days[60]),
                n.clone(),
                n.clone(),
                n.clone(),
                json!(n225.price[60]),
                json!(n225.volume[60]),
                json!(r),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
            ],
            vec![
                json!("missing_day"),
                json!(1),
                json!(2),
                json!("IXIC"),
                json!("2021-04-06"),
                n.clone(),
                n.clone(),
                json!(6),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
            ],
            vec![
                json!("missing_day"),
                json!(2),
                json!(2),
                json!("IXIC"),
                json!("2021-02-15"),
                n.clone(),
                n.clone(),
                json!(5),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
            ],
            vec![
                json!("restatement"),
                json!(1),
                json!(1),
                json!("HSI"),
                date(hsi.days[50]),
                n.clone(),
                n.clone(),
                n.clone(),
                json!(hsi.price[50]),
                json!(hsi.volume[50]),
                n.clone(),
                json!(1),
                json!("kept"),
                json!("hsi-fix.csv"),
                json!(2),
                json!(90_211),
                json!("2026-11-25T08:01:02.345"),
            ],
            vec![
                json!("restatement"),
                json!(1),
                json!(1),
                json!("HSI"),
                date(hsi.days[50]),
                n.clone(),
                n.clone(),
                n.clone(),
                json!(hsi.price[50] * 0.99),
                json!(hsi.volume[50]),
                n.clone(),
                json!(2),
                json!("superseded"),
                json!("hsi.csv"),
                json!(512),
                json!(1_204),
                json!("2026-11-24T06:00:00.000"),
            ],
            vec![
                json!("stale_run"),
                json!(1),
                json!(1),
                json!(ODD_SYMBOL),
                date(odd.days[80]),
                n.clone(),
                date(odd.days[86]),
                json!(7),
                json!(odd.price[80]),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                n,
            ],
        ]
    }

    /// The report: every bundled insight in suite order, `correlation` failed.
    pub fn report() -> Report {
        let all = series();
        let insights = insights::all()
            .into_iter()
            .enumerate()
            .map(|(k, insight)| {
                let (rows, error) = match insight.name {
                    "latest_close" => (latest_close(&all), None),
                    "period_returns" => (period_returns(&all), None),
                    "top_movers" => (top_movers(&all), None),
                    "volatility" => (volatility(&all), None),
                    "moving_averages" => (moving_averages(&all), None),
                    "volume_anomalies" => (volume_anomalies(&all), None),
                    "max_drawdown" => (max_drawdown(&all), None),
                    "correlation" => (vec![], Some(ERROR.to_string())),
                    "data_quality" => (data_quality(&all), None),
                    "quality_issues" => (quality_issues(&all), None),
                    other => panic!("a new insight {other}: add it to the sample"),
                };
                InsightResult {
                    name: insight.name.into(),
                    title: insight.title.into(),
                    description: insight.description.into(),
                    columns: insight.columns.iter().map(|c| c.to_string()).collect(),
                    rows,
                    error,
                    elapsed_ms: 640 + 377 * k as u64,
                }
            })
            .collect();
        Report {
            generated_at: "2026-11-26T10:00:00Z".into(),
            engine: "DataFusion".into(),
            // Built directly: `Params::new` would refuse the odd symbol, which is the point.
            params: Params {
                from: from(),
                to: to(),
                symbols: SPECS.iter().map(|s| s.0.to_string()).collect(),
                benchmark: None,
                pairs: 10,
                pair_candidates: 100,
            },
            insights,
            rejects: vec![],
        }
    }
}

/// A tiny RFC 4180 reader: records of fields, `None` for an unquoted empty field (null) and
/// `Some("")` for a quoted one. Panics on malformed input, which is a failed test.
fn read_csv(text: &str) -> Vec<Vec<Option<String>>> {
    let mut records = vec![];
    let mut record: Vec<Option<String>> = vec![];
    let mut chars = text.chars().peekable();
    loop {
        let mut field = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            loop {
                match chars.next().expect("unterminated quoted field") {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => break,
                    c => field.push(c),
                }
            }
        }
        loop {
            match chars.peek() {
                Some(',') | Some('\r') | None => break,
                Some(c) => {
                    assert!(!quoted, "text after a closing quote");
                    assert!(
                        *c != '"' && *c != '\n',
                        "bare quote or LF in an unquoted field"
                    );
                    field.push(*c);
                    chars.next();
                }
            }
        }
        record.push(if quoted || !field.is_empty() {
            Some(field)
        } else {
            None
        });
        match chars.next() {
            Some(',') => {}
            Some('\r') => {
                assert_eq!(chars.next(), Some('\n'), "records end in CRLF");
                records.push(std::mem::take(&mut record));
                if chars.peek().is_none() {
                    return records;
                }
            }
            None => panic!("the last record lacks its CRLF"),
            Some(c) => unreachable!("{c}"),
        }
    }
}

/// The CSV field a cell should become.
fn expected_field(cell: &Value) -> Option<String> {
    match cell {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Every `<svg class="chart" data-insight="NAME" …>…</svg>` of the page.
fn charts<'a>(html: &'a str, insight: &str) -> Vec<&'a str> {
    let open = format!(r#"<svg class="chart" data-insight="{insight}""#);
    html.match_indices(&open)
        .map(|(i, _)| &html[i..i + html[i..].find("</svg>").unwrap()])
        .collect()
}

/// The section of one insight.
fn section<'a>(html: &'a str, insight: &str) -> &'a str {
    let start = html.find(&format!(r#"id="insight-{insight}""#)).unwrap();
    &html[start..start + html[start..].find("</section>").unwrap()]
}

fn result<'a>(report: &'a Report, name: &str) -> &'a InsightResult {
    report.insight(name).unwrap()
}

fn numbers(r: &InsightResult, column: &str) -> Vec<Option<f64>> {
    let c = r.column(column).unwrap();
    r.rows.iter().map(|row| row[c].as_f64()).collect()
}

#[test]
fn the_sample_is_realistic() {
    let report = sample::report();
    assert_eq!(report.insights.len(), 10);
    assert_eq!(
        report.insights.iter().filter(|r| r.error.is_some()).count(),
        1
    );
    let ma = result(&report, "moving_averages");
    let signal = ma.column("signal").unwrap();
    let signals: Vec<&str> = ma.rows.iter().filter_map(|r| r[signal].as_str()).collect();
    assert!(
        signals.contains(&"golden_cross") && signals.contains(&"death_cross"),
        "{signals:?}"
    );
    assert!(
        numbers(ma, "ma200").contains(&None),
        "the late listing has no 200-day average at first"
    );
    let ret = numbers(result(&report, "top_movers"), "ret");
    assert!(ret.iter().any(|r| r.unwrap() > 0.0) && ret.iter().any(|r| r.unwrap() < 0.0));
    assert!(!result(&report, "volume_anomalies").rows.is_empty());
    assert!(ma.rows.len() > 40, "long enough to be shortened");
}

#[test]
fn csv_of_every_insight_reads_back_to_the_same_cells() {
    let report = sample::report();
    for r in &report.insights {
        let text = to_csv(r);
        let records = read_csv(&text);
        let header: Vec<Option<String>> = r.columns.iter().map(|c| Some(c.clone())).collect();
        assert_eq!(records[0], header, "{}", r.name);
        assert_eq!(records.len(), r.rows.len() + 1, "{}", r.name);
        for (row, record) in r.rows.iter().zip(&records[1..]) {
            let want: Vec<Option<String>> = row.iter().map(expected_field).collect();
            assert_eq!(record, &want, "{}", r.name);
            for (cell, field) in row.iter().zip(record) {
                if let Some(v) = cell.as_f64() {
                    let back: f64 = field.as_deref().unwrap().parse().unwrap();
                    assert_eq!(back.to_bits(), v.to_bits(), "{}: full precision", r.name);
                }
            }
        }
    }
    // Nulls are empty fields: the late listing's first 200-day averages.
    let ma = to_csv(result(&report, "moving_averages"));
    assert!(ma
        .lines()
        .any(|l| l.starts_with("NSEI,") && l.contains(",,")));
}

#[test]
fn csv_quotes_what_needs_quoting() {
    let awkward = InsightResult {
        name: "awkward".into(),
        title: "Awkward".into(),
        description: "Text with separators.".into(),
        columns: vec!["symbol".into(), "note, with comma".into(), "n".into()],
        rows: vec![
            vec![
                "S&P/TSX".into(),
                "said \"sell\", then bought".into(),
                1.into(),
            ],
            vec![
                "A".into(),
                "two\r\nlines\nand a bare LF".into(),
                Value::Null,
            ],
            vec!["".into(), Value::Null, (-0.000123).into()],
        ],
        error: None,
        elapsed_ms: 3,
    };
    let text = to_csv(&awkward);
    assert!(
        text.starts_with("symbol,\"note, with comma\",n\r\n"),
        "{text}"
    );
    assert!(
        text.contains("S&P/TSX,\"said \"\"sell\"\", then bought\",1\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\"\",,-0.000123\r\n"),
        "empty string and null differ: {text}"
    );
    let records = read_csv(&text);
    assert_eq!(records.len(), 4);
    assert_eq!(
        records[2][1].as_deref(),
        Some("two\r\nlines\nand a bare LF")
    );
    assert_eq!(
        records[3],
        [Some(String::new()), None, Some("-0.000123".into())]
    );
}

#[test]
fn json_round_trips_to_the_same_report() {
    let report = sample::report();
    let text = to_json(&report);
    assert!(text.contains("\n  \"insights\": ["), "pretty");
    assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), report);
}

#[test]
fn html_has_one_chart_per_expected_chart_with_one_element_per_datum() {
    let report = sample::report();
    let html = to_html(&report);

    let ret = numbers(result(&report, "top_movers"), "ret");
    let movers = charts(&html, "top_movers");
    assert_eq!(movers.len(), 1);
    let gains = ret.iter().filter(|r| r.unwrap() > 0.0).count();
    assert_eq!(
        movers[0].matches(r#"<rect class="bar gain""#).count(),
        gains
    );
    assert_eq!(
        movers[0].matches(r#"<rect class="bar loss""#).count(),
        ret.len() - gains
    );

    let vol = numbers(result(&report, "volatility"), "annual_vol");
    let vol_chart = charts(&html, "volatility");
    assert_eq!(vol_chart.len(), 1);
    assert_eq!(
        vol_chart[0].matches(r#"<rect class="bar "#).count(),
        vol.len()
    );

    let dd = charts(&html, "max_drawdown");
    assert_eq!(dd.len(), 1);
    assert_eq!(
        dd[0].matches(r#"<rect class="bar "#).count(),
        result(&report, "max_drawdown").rows.len()
    );

    // One moving-average chart per symbol, one line per column with a value, one marker
    // per cross.
    let ma = result(&report, "moving_averages");
    let ma_charts = charts(&html, "moving_averages");
    assert_eq!(ma_charts.len(), sample::series().len());
    let (sym, sig) = (ma.column("symbol").unwrap(), ma.column("signal").unwrap());
    for s in sample::series() {
        let chart = ma_charts
            .iter()
            .find(|c| {
                c.contains(&format!(
                    r#"data-symbol="{}""#,
                    s.symbol.replace('&', "&amp;")
                ))
            })
            .unwrap_or_else(|| panic!("a chart for {}", s.symbol));
        let rows: Vec<&Vec<Value>> = ma
            .rows
            .iter()
            .filter(|r| r[sym] == s.symbol.as_str())
            .collect();
        let lines = ["price", "ma50", "ma200"]
            .iter()
            .filter(|c| rows.iter().any(|r| !r[ma.column(c).unwrap()].is_null()))
            .count();
        assert_eq!(
            chart.matches(r#"<path class="series "#).count(),
            lines,
            "{}",
            s.symbol
        );
        for (signal, class) in [
            ("golden_cross", "golden-cross"),
            ("death_cross", "death-cross"),
        ] {
            assert_eq!(
                chart.matches(&format!(r#"class="marker {class}""#)).count(),
                rows.iter().filter(|r| r[sig] == signal).count(),
                "{} {signal}",
                s.symbol
            );
        }
    }
    // No chart for the others; the failed one has none either.
    let all_charts = html.matches(r#"<svg class="chart""#).count();
    // (top movers, volatility, drawdown and data-quality completeness.)
    assert_eq!(all_charts, 4 + ma_charts.len());
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
}

#[test]
fn html_escapes_every_piece_of_data() {
    let html = to_html(&sample::report());
    assert!(
        !html.to_lowercase().contains("<script"),
        "no script, from data or otherwise"
    );
    assert!(
        html.contains("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &#39;more&#39;")
    );
    assert!(
        !html.contains(sample::ODD_SYMBOL),
        "the raw symbol never appears"
    );
    assert!(section(&html, "top_movers").contains("S&amp;P/TSX"));
    // Every ampersand starts an entity.
    for (i, _) in html.match_indices('&') {
        let rest = &html[i + 1..];
        let end = rest.find(';').expect("entity ends in ;");
        let name = &rest[..end];
        assert!(
            end > 0
                && end <= 8
                && (name.chars().all(|c| c.is_ascii_alphanumeric())
                    || (name.starts_with('#') && name[1..].chars().all(|c| c.is_ascii_digit()))),
            "bare & at {i}: {}",
            &html[i..(i + 20).min(html.len())]
        );
    }
}

#[test]
fn html_shows_the_failed_insight_in_a_red_box_and_the_rest_normally() {
    let html = to_html(&sample::report());
    assert_eq!(html.matches(r#"class="failed-box""#).count(), 1);
    let failed = section(&html, "correlation");
    assert!(failed.contains(r#"class="failed-box" role="alert""#));
    assert!(failed.contains("Athena query failed: SYNTAX_ERROR"));
    assert!(!failed.contains("<table"));
    assert!(html.contains("1 failed"));
    // Sections after it still render: the page is not cut short.
    for name in [
        "latest_close",
        "period_returns",
        "volume_anomalies",
        "max_drawdown",
    ] {
        assert!(section(&html, name).contains("<table"), "{name}");
    }
    assert!(html.trim_end().ends_with("</html>"));
    assert_eq!(
        html.matches("<section").count(),
        html.matches("</section>").count()
    );
}

#[test]
fn html_is_one_self_contained_page() {
    let html = to_html(&sample::report());
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert_eq!(html.matches("<html").count(), 1);
    assert_eq!(html.matches("<style>").count(), 1);
    for outside in [
        "http:", "https:", "src=", "url(", "@import", "<link", "<img", "<iframe",
    ] {
        assert!(!html.contains(outside), "{outside}");
    }
    // Header facts.
    for fact in [
        "4 Jan 2021 – 30 Jun 2021",
        "DataFusion",
        "26 Nov 2026, 10:00 UTC",
        "HSI, N225",
    ] {
        assert!(html.contains(fact), "{fact}");
    }
}

#[test]
fn long_moving_average_table_is_shortened_to_crosses_and_latest_days() {
    let report = sample::report();
    let ma = result(&report, "moving_averages");
    let sig = ma.column("signal").unwrap();
    let crosses = ma.rows.iter().filter(|r| !r[sig].is_null()).count();
    let symbols = sample::series().len();
    let html = to_html(&report);
    let part = section(&html, "moving_averages");
    let body = &part[part.find("<tbody>").unwrap()..part.find("</tbody>").unwrap()];
    let shown = body.matches("<tr>").count();
    // A symbol whose last day is a cross counts once.
    assert!(
        shown <= crosses + symbols && shown >= crosses.max(symbols),
        "{shown}"
    );
    assert!(part.contains(&format!("Showing {shown} of {} rows", ma.rows.len())));
    assert!(part.contains("The full data is in the CSV file <code>moving_averages.csv</code>"));
}

#[test]
fn every_symbol_gets_one_moving_average_row_each_latest_cross_first_and_no_charts() {
    let report = sample::every_symbol_report();
    let ma = result(&report, "moving_averages");
    let n = sample::series().len();
    assert_eq!(ma.rows.len(), n, "one row per symbol");
    let html = to_html(&report);
    assert!(charts(&html, "moving_averages").is_empty());
    let part = section(&html, "moving_averages");
    assert!(
        part.contains(&format!("{n} symbols on their last day:")),
        "{part}"
    );
    assert!(!part.contains("Showing"), "every symbol shown");
    // The table's rows by their latest cross, the most recent first, then the others.
    let (sym, last) = (
        ma.column("symbol").unwrap(),
        ma.column("last_cross_date").unwrap(),
    );
    let mut want: Vec<(Option<&str>, &str)> = ma
        .rows
        .iter()
        .map(|r| (r[last].as_str(), r[sym].as_str().unwrap()))
        .collect();
    want.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => y.cmp(x).then(a.1.cmp(b.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.cmp(b.1),
    });
    assert!(want[0].0.is_some(), "the sample crosses");
    let body = &part[part.find("<tbody>").unwrap()..part.find("</tbody>").unwrap()];
    let shown: Vec<&str> = body
        .split("<td class=\"sym\">")
        .skip(1)
        .map(|c| &c[..c.find('<').unwrap()])
        .collect();
    let want: Vec<String> = want.iter().map(|w| w.1.replace('&', "&amp;")).collect();
    assert_eq!(shown, want);
    // The card counts each symbol's latest cross, as the table has them.
    let kind = ma.column("last_cross").unwrap();
    let count = |k: &str| ma.rows.iter().filter(|r| r[kind] == k).count();
    assert!(html.contains(&format!(
        "{} <span class=\"unit\">golden</span> {} <span class=\"unit\">death</span>",
        count("golden_cross"),
        count("death_cross")
    )));
    assert!(html.contains("latest cross per symbol"));
}

#[test]
fn numbers_are_formatted_for_people() {
    let report = sample::report();
    let html = to_html(&report);
    let is_grouped = |s: &str, decimals: usize| {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let groups: Vec<&str> = int.trim_start_matches(['-', '+']).split(',').collect();
        frac.len() == decimals
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3)
            && groups.len() > 1
    };
    // The latest close of HSI, a price in the tens of thousands.
    let latest = section(&html, "latest_close");
    let hsi = &latest[latest.find(">HSI<").unwrap()..];
    let close = hsi.split("<td class=\"num\">").nth(1).unwrap();
    let close = &close[..close.find('<').unwrap()];
    assert!(is_grouped(close, 2), "{close}");
    // Volumes in the hundreds of millions, whole.
    let anomalies = section(&html, "volume_anomalies");
    let volume = anomalies.split("<td class=\"num\">").nth(1).unwrap();
    let volume = &volume[..volume.find('<').unwrap()];
    assert!(is_grouped(volume, 0), "{volume}");
    // Returns as signed percent with two decimals, in table and chart alike.
    let ret = numbers(result(&report, "top_movers"), "ret")[0].unwrap();
    let text = format!("+{:.2}%", ret * 100.0);
    assert!(
        section(&html, "top_movers").matches(&text).count() >= 2,
        "{text}"
    );
}

#[test]
fn html_has_a_data_quality_section_and_completeness_per_symbol() {
    let report = sample::report();
    let html = to_html(&report);
    // The summary card: every symbol's completeness, the incomplete one in red.
    let card = &html[html.find("<div class=\"card quality\">").unwrap()..];
    let card = &card[..card.find("</div></div>").unwrap()];
    for s in sample::series() {
        let symbol = s.symbol.replace('&', "&amp;");
        assert!(
            card.contains(&format!("<span class=\"sym\">{symbol}</span>")),
            "{symbol}"
        );
    }
    assert_eq!(card.matches("<li>").count(), 7);
    assert!(
        card.contains("<span class=\"neg\">"),
        "IXIC is not complete: {card}"
    );
    assert!(card.contains("<span>100.00%</span>"), "{card}");
    assert!(
        card.contains("2 missing days, 1 stale runs, 1 restated bars, 1 implausible moves"),
        "{card}"
    );
    // The section: a completeness bar per symbol, the least complete first.
    let bars = charts(&html, "data_quality");
    assert_eq!(bars.len(), 1);
    assert_eq!(
        bars[0].matches(r#"<rect class="bar completeness""#).count(),
        7
    );
    assert!(bars[0].find(">IXIC<").unwrap() < bars[0].find(">HSI<").unwrap());
    // The listing: every row (it is bounded by its SQL), the totals, the kept version marked.
    let issues = section(&html, "quality_issues");
    assert!(
        issues.contains(
            "Found: 2 missing trading days · 1 stale runs · 1 restated bars · 1 implausible moves."
        ),
        "{issues}"
    );
    assert_eq!(issues.matches("<tr>").count(), 1 + 6);
    assert!(
        issues.contains(r#"<span class="badge gain">Kept</span>"#),
        "{issues}"
    );
    assert!(issues.contains("hsi-fix.csv") && issues.contains("2026-11-25T08:01:02.345"));
    assert!(!issues.contains("Showing"), "not shortened");
}
