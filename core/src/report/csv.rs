//! One insight as an RFC 4180 CSV file: the full rows, for spreadsheets and scripts, where the
//! HTML page shows only a readable part of the long ones.

use super::InsightResult;
use serde_json::Value;

/// The insight's rows as RFC 4180 CSV: a header row of the column names, then one record per
/// row, CRLF line ends. A field containing `,`, `"`, CR or LF is quoted (quotes doubled).
/// Null is an empty field and an empty string a quoted `""`, so the two stay apart for
/// readers that care. Numbers keep full precision, exactly as serde_json prints them (the
/// same text as the JSON report). A row shorter than the header is padded with empty fields,
/// so every record has the header's width; extra cells are kept rather than dropped.
pub fn to_csv(result: &InsightResult) -> String {
    let mut out = String::with_capacity(64 + result.rows.len() * 16 * result.columns.len());
    record(&mut out, result.columns.iter().map(|c| Some(c.as_str())));
    for row in &result.rows {
        let width = result.columns.len().max(row.len());
        let fields: Vec<Option<String>> = (0..width).map(|k| row.get(k).and_then(cell)).collect();
        record(&mut out, fields.iter().map(|f| f.as_deref()));
    }
    out
}

/// A cell's CSV text before quoting; `None` for null (written as an empty field).
fn cell(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        // Numbers, booleans, and (never produced by the runners) arrays or objects as JSON.
        other => Some(other.to_string()),
    }
}

/// Appends one record; `None` fields are empty, `Some("")` is a quoted empty string.
fn record<'a>(out: &mut String, fields: impl Iterator<Item = Option<&'a str>>) {
    for (k, field) in fields.enumerate() {
        if k > 0 {
            out.push(',');
        }
        match field {
            None => {}
            Some(f) if f.is_empty() || f.contains([',', '"', '\r', '\n']) => {
                out.push('"');
                out.push_str(&f.replace('"', "\"\""));
                out.push('"');
            }
            Some(f) => out.push_str(f),
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(columns: &[&str], rows: Vec<Vec<Value>>) -> InsightResult {
        InsightResult {
            name: "t".into(),
            title: "T".into(),
            description: "D".into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            error: None,
            elapsed_ms: 1,
        }
    }

    #[test]
    fn header_then_records_with_crlf() {
        let r = result(
            &["symbol", "trade_date", "close"],
            vec![
                vec![json!("HSI"), json!("2021-06-30"), json!(28827.95)],
                vec![json!("N225"), json!("2021-06-30"), json!(28791)],
            ],
        );
        assert_eq!(
            to_csv(&r),
            "symbol,trade_date,close\r\nHSI,2021-06-30,28827.95\r\nN225,2021-06-30,28791\r\n"
        );
    }

    #[test]
    fn quoting_follows_rfc_4180() {
        let r = result(
            &["a", "b,c"],
            vec![
                vec![json!("x,y"), json!("say \"hi\"")],
                vec![json!("line\nbreak"), json!("cr\rhere")],
                vec![json!("plain"), json!("")],
            ],
        );
        assert_eq!(
            to_csv(&r),
            "a,\"b,c\"\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n\"line\nbreak\",\"cr\rhere\"\r\nplain,\"\"\r\n"
        );
    }

    #[test]
    fn nulls_are_empty_numbers_keep_full_precision() {
        let r = result(
            &["a", "b", "c", "d", "e"],
            vec![vec![
                json!(null),
                json!(0.1 + 0.2),
                json!(-1.5e-9),
                json!(u64::MAX),
                json!(true),
            ]],
        );
        let text = to_csv(&r);
        let line = text.lines().nth(1).unwrap();
        assert_eq!(
            line,
            ",0.30000000000000004,-1.5e-9,18446744073709551615,true"
        );
        let back: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
        assert_eq!(
            back,
            0.1 + 0.2,
            "the printed number reads back to the same bits"
        );
    }

    #[test]
    fn short_rows_are_padded_and_no_rows_give_the_header() {
        let r = result(&["a", "b", "c"], vec![vec![json!(1)]]);
        assert_eq!(to_csv(&r), "a,b,c\r\n1,,\r\n");
        assert_eq!(to_csv(&result(&["a"], vec![])), "a\r\n");
    }
}
