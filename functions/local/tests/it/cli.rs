//! `stockstream-local crawl` and `insights` on a lake the sink wrote from the real data: a
//! report on disk with every insight, and clear refusals of bad parameters.

use crate::common::{self, real_bars, write_lake};
use std::path::Path;
use std::process::{Command, Output};

fn cli(bucket: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stockstream-local"))
        .args(args)
        .arg("--bucket")
        .arg(bucket)
        .output()
        .unwrap()
}

#[test]
fn crawl_then_insights_writes_a_report_and_refuses_bad_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path();
    let bars = real_bars();
    write_lake(bucket, &bars, 0);
    let last = bars.iter().map(|(_, b)| b.date).max().unwrap();

    let out = cli(bucket, &["insights"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `stockstream-local crawl` first"));

    let out = cli(bucket, &["crawl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 table(s) [\"bars\"]"));

    // Defaults: the year up to the lake's last day, every symbol.
    let out = cli(bucket, &["insights"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let html = std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(html.starts_with(bucket.join("reports")) && html.ends_with("report.html"));
    let folder = html.parent().unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["engine"], "DataFusion");
    assert_eq!(
        json["params"]["to"],
        last.to_string(),
        "the lake's last day"
    );
    assert_eq!(
        json["params"]["from"],
        (last - chrono::Duration::days(365)).to_string()
    );
    let insights = json["insights"].as_array().unwrap();
    assert_eq!(insights.len(), 10);
    for i in insights {
        assert!(i["error"].is_null(), "{}", i["error"]);
        let name = i["name"].as_str().unwrap();
        let csv = std::fs::read_to_string(folder.join(format!("{name}.csv"))).unwrap();
        assert_eq!(
            csv.lines().count(),
            i["rows"].as_array().unwrap().len() + 1,
            "{name}"
        );
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg"));
    // The data-quality section: the bundled HSI series is complete against its own calendar
    // and the summary says so.
    assert!(page.contains(r#"id="insight-data_quality""#));
    assert!(page.contains(r#"id="insight-quality_issues""#));
    assert!(page.contains("<div class=\"k\">Data completeness</div>"));
    assert!(page.contains("<span class=\"sym\">HSI</span> <span>100.00%</span>"));
    let quality = insights
        .iter()
        .find(|i| i["name"] == "data_quality")
        .unwrap();
    let row = &quality["rows"][0];
    assert_eq!(row[0], "HSI");
    assert_eq!(row[6], 1.0, "completeness");

    for (args, says) in [
        (
            vec!["insights", "--from", "2008-02-01", "--to", "2008-01-01"],
            "after it ends",
        ),
        (vec!["insights", "--to", "2008-13-01"], "is not a date"),
        (
            vec!["insights", "--symbols", "IXIC"],
            "\"IXIC\" is not in the lake (known: HSI)",
        ),
        (
            vec!["insights", "--symbols", "HSI') OR 1=1 --"],
            "is not a ticker",
        ),
    ] {
        let out = cli(bucket, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn rejects_summarises_producer_rejects_and_the_quarantine_by_reason_and_file() {
    let fixtures = common::repo().join("functions/local/tests/fixtures/rejects");
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_stockstream-local"))
            .arg("rejects")
            .arg(fixtures.join("producer-rejects.jsonl"))
            .arg("--bucket")
            .arg(fixtures.join("bucket"))
            .args(extra)
            .env_remove("STOCKSTREAM_BUCKET")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };

    let json: serde_json::Value = serde_json::from_str(&run(&["--json"])).unwrap();
    let p = &json["producer"];
    assert_eq!(p["total"], 4);
    assert_eq!(p["by_reason"]["outside_range"]["count"], 2);
    assert_eq!(
        p["by_reason"]["outside_range"]["example"],
        "close 8.5 is outside low..high (9..12)"
    );
    assert_eq!(p["by_reason"]["bad_date"]["count"], 1);
    assert_eq!(p["by_file"]["prices-2024.csv"]["count"], 3);
    assert_eq!(
        p["by_file"]["prices-2024.csv"]["by_reason"],
        serde_json::json!({"bad_date": 1, "outside_range": 2})
    );
    assert_eq!(p["by_file"]["n225.csv"]["by_reason"]["negative_volume"], 1);
    let q = &json["quarantine"];
    assert_eq!(q["total"], 3);
    assert_eq!(q["by_reason"]["not_a_bar"]["count"], 2);
    assert_eq!(q["by_reason"]["unknown_symbol"]["count"], 1);
    let object = "lake/bars/quarantine/stock-bars/p0-00000000000000000041.jsonl";
    assert_eq!(q["by_file"][object]["count"], 2);
    assert_eq!(q["files_read"].as_array().unwrap().len(), 2);
    assert_eq!(q["unreadable"], serde_json::json!([]));

    let table = run(&[]);
    assert!(
        table.starts_with("producer rejects: 4 rows from 1 file(s) read\n"),
        "{table}"
    );
    assert!(
        table.contains("sink quarantine: 3 records from 2 file(s) read\n"),
        "{table}"
    );
    let line = |needle: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(needle))
            .unwrap_or_else(|| panic!("{needle} in {table}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("outside_range"),
        "outside_range 2 e.g. close 8.5 is outside low..high (9..12)"
    );
    assert_eq!(
        line("prices-2024.csv"),
        "prices-2024.csv 3 bad_date=1 outside_range=2"
    );
    assert_eq!(
        line(object),
        format!("{object} 2 not_a_bar=1 unknown_symbol=1")
    );

    let out = Command::new(env!("CARGO_BIN_EXE_stockstream-local"))
        .arg("rejects")
        .env_remove("STOCKSTREAM_BUCKET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give rejects files"));
}
