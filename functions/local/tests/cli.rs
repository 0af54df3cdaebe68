//! `stockstream-local crawl` and `insights` on a lake the sink wrote from the real data: a
//! report on disk with every insight, and clear refusals of bad parameters.

mod common;

use common::{real_bars, write_lake};
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
    assert_eq!(insights.len(), 8);
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
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));

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
