//! The insights handler end to end against real Athena and S3 APIs on the wire (the moto
//! server that `.ci/test` starts on 127.0.0.1, address in `STOCKSTREAM_TEST_S3_ENDPOINT`).
//!
//! What moto does, read from its source (moto 5.2.5, `moto/athena/models.py`): it runs no
//! SQL. `StartQueryExecution` checks that the workgroup exists and records the query, its
//! context, result location and execution parameters; `GetQueryExecution` moves the query
//! QUEUED → RUNNING → SUCCEEDED (at once by default; one step per call with the state
//! manager's "manual" transition, which these tests set through moto's `/moto-api`); it never
//! reports FAILED. `GetQueryResults` returns no rows at all (not even a header) unless results
//! were queued with `POST /moto-api/static/athena/query-results`, which these tests do: each
//! queued result goes to the next query started, and is also written as CSV to the query's
//! output location. `StopQueryExecution` marks the query CANCELLED.
//!
//! SNS in moto delivers to an `http` subscription by POSTing the notification (JSON with
//! `Subject` and `Message`) during `Publish`; the tests subscribe a local listener to read
//! the message back.

use aws_sdk_athena::types::QueryExecutionState;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use stockstream_core::insights;
use stockstream_core::report::Report;
use stockstream_insights::athena::Athena;
use stockstream_insights::config::InsightsConfig;
use stockstream_insights::event::ScheduledEvent;
use stockstream_insights::handler::{handle, InsightsError};
use stockstream_insights::notify::Notifier;
use stockstream_lambda::backoff::Backoff;

/// The state manager is global to the moto server: tests that change a transition run one at
/// a time.
static TRANSITIONS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

use stockstream_store::moto::{endpoint, s3 as s3_client, sdk, unique};

fn athena_client(region: &'static str) -> aws_sdk_athena::Client {
    aws_sdk_athena::Client::new(&sdk(region))
}

/// `POST` to moto's own API (`/moto-api/...`), which the SDKs do not speak.
fn moto_api(path: &str, body: &Value) {
    let endpoint = endpoint();
    let addr = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let body = body.to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap_or_default();
    assert!(status == "200" || status == "201", "moto {path}: {answer}");
}

fn sns_client() -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&sdk("us-east-1"))
}

/// Reads one HTTP request or response from `conn`: its head (lower case) and body.
fn read_http(conn: &mut std::net::TcpStream) -> (String, Vec<u8>) {
    let mut buf = vec![];
    conn.read_to_end(&mut buf).ok();
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(buf.len());
    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
    (head, buf.get(end + 4..).unwrap_or_default().to_vec())
}

/// An HTTP endpoint for an SNS subscription: moto POSTs each notification to it (JSON with
/// `Subject` and `Message`), and each arrives on the channel.
fn http_subscriber() -> (String, std::sync::mpsc::Receiver<Value>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            // Read up to the body's length (the client keeps the connection open).
            let mut buf = vec![];
            let mut chunk = [0u8; 8192];
            let body = loop {
                let n = conn.read(&mut chunk).unwrap_or(0);
                buf.extend_from_slice(&chunk[..n]);
                let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    if n == 0 {
                        break vec![];
                    }
                    continue;
                };
                let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len || n == 0 {
                    break buf[end + 4..].to_vec();
                }
            };
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            if let Ok(v) = serde_json::from_slice(&body) {
                if tx.send(v).is_err() {
                    return;
                }
            }
        }
    });
    (url, rx)
}

/// `GET url` (plain HTTP): the status line's code and the body.
fn http_get(url: &str) -> (String, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let (head, body) = read_http(&mut conn);
    let status = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

/// Sets moto's transition for Athena queries until dropped (also when a test panics).
struct Transition;

impl Transition {
    fn manual(times: u64) -> Transition {
        moto_api(
            "/moto-api/state-manager/set-transition",
            &json!({"model_name": "athena::execution", "transition": {"progression": "manual", "times": times}}),
        );
        Transition
    }
}

impl Drop for Transition {
    fn drop(&mut self) {
        moto_api(
            "/moto-api/state-manager/unset-transition",
            &json!({"model_name": "athena::execution"}),
        );
    }
}

async fn bucket(s3: &aws_sdk_s3::Client, name: &str) -> String {
    let b = unique(name);
    s3.create_bucket().bucket(&b).send().await.unwrap();
    b
}

async fn workgroup(athena: &aws_sdk_athena::Client) -> String {
    let wg = unique("stockstream");
    athena.create_work_group().name(&wg).send().await.unwrap();
    wg
}

fn event() -> ScheduledEvent {
    stockstream_lambda::testing::sample_event("insights-scheduled")
}

fn config(workgroup: &str, reports: &str, output: Option<String>) -> InsightsConfig {
    InsightsConfig {
        workgroup: workgroup.into(),
        database: "stockstream_lake".into(),
        output,
        bucket: reports.into(),
        prefix: "reports".into(),
        days: 365,
        symbols: vec!["HSI".into(), "N225".into()],
        benchmark: None,
        pairs: 10,
        insight_deadline: None,
        reports_topic: None,
        link_days: 7,
    }
}

/// The Athena type and a cell for a column, by the insights' naming conventions.
fn cell(column: &str) -> (&'static str, &'static str) {
    match column {
        "rank" => ("bigint", "2"),
        c if c.starts_with("n_") => ("bigint", "124"),
        c if c.ends_with("_date") || c == "as_of" => ("date", "2026-11-25"),
        "symbol" | "symbol_a" | "symbol_b" | "side" | "signal" => ("varchar", "HSI"),
        _ => ("double", "0.25"),
    }
}

const FAST: Backoff = Backoff {
    first: Duration::from_millis(1),
    factor: 2.0,
    max: Duration::from_millis(20),
};

#[tokio::test]
#[ignore = "needs the moto server (.ci/test)"]
async fn the_suite_runs_on_athena_and_the_report_lands_in_s3() {
    let _one_at_a_time = TRANSITIONS.lock().await;
    let region = "eu-west-1";
    let athena = athena_client(region);
    let s3 = s3_client();
    let reports = bucket(&s3, "reports").await;
    let results = bucket(&s3, "athena-results").await;
    let wg = workgroup(&athena).await;
    // One queued result per insight, in suite order: a header and one row typed through
    // ColumnInfo; correlation's header is wrong, so that insight must fail.
    let queued: Vec<Value> = insights::all()
        .iter()
        .map(|i| {
            let mut header: Vec<&str> = i.columns.clone();
            if i.name == "correlation" {
                header.reverse();
            }
            let info: Vec<Value> = header
                .iter()
                .map(|c| json!({"Name": c, "Label": c, "Type": cell(c).0, "Nullable": "UNKNOWN", "CaseSensitive": true}))
                .collect();
            let data = |cells: Vec<&str>| json!({"Data": cells.iter().map(|v| json!({"VarCharValue": v})).collect::<Vec<_>>()});
            json!({
                "rows": [data(header.clone()), data(header.iter().map(|c| cell(c).1).collect())],
                "column_info": info,
            })
        })
        .collect();
    moto_api(
        "/moto-api/static/athena/query-results",
        &json!({"region": region, "results": queued}),
    );
    // Each GetQueryExecution moves a query one state on: the runner sees RUNNING, then SUCCEEDED.
    let transition = Transition::manual(1);
    let config = config(&wg, &reports, Some(format!("s3://{results}/athena/")));
    let runner = Athena {
        client: athena.clone(),
        workgroup: wg.clone(),
        database: config.database.clone(),
        output: config.output.clone(),
        backoff: FAST,
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T06:00:07Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    // The readers: an SNS topic with an HTTP subscriber.
    let sns = sns_client();
    let topic = sns
        .create_topic()
        .name(unique("reports"))
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string();
    let (subscriber, messages) = http_subscriber();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("http")
        .endpoint(&subscriber)
        .send()
        .await
        .unwrap();
    let notifier = Notifier {
        sns,
        topic_arn: topic.clone(),
        link_days: 30,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let p = handle(
        &event(),
        &runner,
        &s3,
        Some(&notifier),
        &config,
        deadline,
        now,
    )
    .await
    .unwrap();
    drop(transition);
    assert!(p.output.message_id.is_some(), "{:?}", p.output);
    let folder = "reports/2026-11-26/060007Z";
    assert_eq!(
        (
            p.output.report.as_str(),
            p.output.succeeded,
            p.output.failed
        ),
        (
            format!("s3://{reports}/{folder}/report.html").as_str(),
            insights::all().len() - 1,
            1
        )
    );

    // The report's objects are in the bucket, with their content types.
    let listed = s3
        .list_objects_v2()
        .bucket(&reports)
        .prefix(format!("{folder}/"))
        .send()
        .await
        .unwrap();
    let mut keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort();
    let mut want: Vec<String> = insights::all()
        .iter()
        .map(|i| format!("{folder}/{}.csv", i.name))
        .chain(["report.html", "report.json"].map(|f| format!("{folder}/{f}")))
        .collect();
    want.sort();
    assert_eq!(keys, want);
    let get = |key: String| {
        let s3 = s3.clone();
        let reports = reports.clone();
        async move {
            let o = s3
                .get_object()
                .bucket(&reports)
                .key(key)
                .send()
                .await
                .unwrap();
            let ct = o.content_type().unwrap_or_default().to_string();
            (ct, o.body.collect().await.unwrap().into_bytes().to_vec())
        }
    };
    let (ct, html) = get(format!("{folder}/report.html")).await;
    assert_eq!(ct, "text/html; charset=utf-8");
    assert!(String::from_utf8_lossy(&html).contains("Athena"));

    // The readers were told, once: the summary and a presigned link to report.html, signed
    // for 7 days (30 asked) from the run's time.
    let got = messages.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(got["Type"], "Notification");
    assert_eq!(got["TopicArn"], topic.as_str());
    assert_eq!(got["MessageId"], p.output.message_id.as_deref().unwrap());
    let (ok, failed) = (p.output.succeeded, p.output.failed);
    assert_eq!(
        got["Subject"],
        format!(
            "StockStream report 2025-11-25 to 2026-11-25: {ok} of {} insights, {failed} failed",
            ok + failed
        )
    );
    let body = got["Message"].as_str().unwrap();
    assert!(body.contains("Symbols: HSI, N225\n"), "{body}");
    assert!(
        body.contains("- Return correlation (correlation): FAILED: returned columns"),
        "{body}"
    );
    assert!(
        body.contains("- Latest close (latest_close): 1 row\n"),
        "{body}"
    );
    assert!(
        body.contains("signed for 7 days, until 2026-12-03 06:00 UTC"),
        "{body}"
    );
    assert!(body.contains("REPORT_LINK_DAYS asks for 30 days"), "{body}");
    let link = body
        .lines()
        .find(|l| l.starts_with("http://"))
        .unwrap_or_else(|| panic!("no link in {body}"));
    assert!(
        link.contains(&format!("/{reports}/{folder}/report.html?"))
            && link.contains("X-Amz-Expires=604800")
            && link.contains("X-Amz-Date=20261126T060007Z")
            && link.contains("X-Amz-Signature="),
        "{link}"
    );
    let (status, page) = http_get(link);
    assert_eq!((status.as_str(), page), ("200", html.clone()), "GET {link}");
    assert!(
        messages.recv_timeout(Duration::from_millis(200)).is_err(),
        "one message"
    );
    let (ct, json) = get(format!("{folder}/report.json")).await;
    assert_eq!(ct, "application/json");
    let report: Report = serde_json::from_slice(&json).unwrap();
    assert_eq!(report, p.report);
    assert_eq!(report.params.symbols, ["HSI", "N225"]);
    assert_eq!(report.params.to.to_string(), "2026-11-25");
    let (ct, csv) = get(format!("{folder}/latest_close.csv")).await;
    assert_eq!(ct, "text/csv");
    assert!(String::from_utf8_lossy(&csv).starts_with("symbol,trade_date,close,"));

    // The statuses agree with what was queued, and the cells are typed.
    for r in &report.insights {
        if r.name == "correlation" {
            assert!(
                r.error
                    .as_deref()
                    .unwrap()
                    .starts_with("returned columns [\"correlation\""),
                "{:?}",
                r.error
            );
            continue;
        }
        assert_eq!(r.error, None, "{}", r.name);
        assert_eq!(r.rows.len(), 1, "{}", r.name);
        for (c, v) in r.columns.iter().zip(&r.rows[0]) {
            let want = match cell(c).0 {
                "bigint" => json!(cell(c).1.parse::<i64>().unwrap()),
                "double" => json!(0.25),
                _ => json!(cell(c).1),
            };
            assert_eq!(v, &want, "{}.{c}", r.name);
        }
    }

    // What reached Athena: one query per insight in the workgroup, on the lake's database, every
    // `?` with a quoted literal, results to the configured location (where moto wrote them).
    let ids = athena
        .list_query_executions()
        .work_group(&wg)
        .send()
        .await
        .unwrap()
        .query_execution_ids()
        .to_vec();
    assert_eq!(ids.len(), insights::all().len());
    for id in &ids {
        let q = athena
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .unwrap();
        let q = q.query_execution().unwrap();
        assert_eq!(
            q.status().and_then(|s| s.state()),
            Some(&QueryExecutionState::Succeeded)
        );
        assert_eq!(q.work_group(), Some(wg.as_str()));
        assert_eq!(
            q.query_execution_context().and_then(|c| c.database()),
            Some("stockstream_lake")
        );
        let sql = q.query().unwrap();
        assert!(
            !sql.contains(":from") && !sql.contains(":symbol_filter"),
            "{sql}"
        );
        let params = q.execution_parameters();
        assert_eq!(params.len(), sql.matches('?').count(), "{sql}");
        assert!(params.contains(&"'HSI'".to_string()), "{params:?}");
        assert!(
            params
                .iter()
                .all(|p| p.starts_with('\'') && p.ends_with('\'')),
            "{params:?}"
        );
        let out = q
            .result_configuration()
            .and_then(|r| r.output_location())
            .unwrap();
        assert!(out.starts_with(&format!("s3://{results}/athena/")), "{out}");
    }
    let written = s3
        .list_objects_v2()
        .bucket(&results)
        .prefix("athena/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        written.contents().len(),
        insights::all().len(),
        "moto's result CSVs"
    );
}

#[tokio::test]
#[ignore = "needs the moto server (.ci/test)"]
async fn a_query_still_queued_at_the_deadline_is_stopped() {
    let _one_at_a_time = TRANSITIONS.lock().await;
    let athena = athena_client("eu-west-2");
    let s3 = s3_client();
    let reports = bucket(&s3, "reports").await;
    let wg = workgroup(&athena).await;
    let config = config(&wg, &reports, None);
    let runner = Athena {
        client: athena.clone(),
        workgroup: wg.clone(),
        database: config.database.clone(),
        output: None,
        backoff: Backoff {
            first: Duration::from_millis(50),
            factor: 1.5,
            max: Duration::from_millis(200),
        },
    };
    // The query never leaves QUEUED.
    let transition = Transition::manual(1_000_000);
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T06:00:08Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let e = handle(
        &event(),
        &runner,
        &s3,
        None,
        &config,
        Instant::now() + Duration::from_millis(1200),
        now,
    )
    .await
    .unwrap_err();
    drop(transition);
    assert!(
        matches!(e, InsightsError::AllFailed { total, .. } if total == insights::all().len()),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("first: latest_close: timed out after 1 s; query ")
            && msg.ends_with(" stopped"),
        "{msg}"
    );
    // Only the first insight started; StopQueryExecution reached Athena.
    let ids = athena
        .list_query_executions()
        .work_group(&wg)
        .send()
        .await
        .unwrap()
        .query_execution_ids()
        .to_vec();
    assert_eq!(ids.len(), 1);
    let q = athena
        .get_query_execution()
        .query_execution_id(&ids[0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        q.query_execution()
            .and_then(|q| q.status())
            .and_then(|s| s.state()),
        Some(&QueryExecutionState::Cancelled)
    );
    // The report that says so was still written.
    let o = s3
        .get_object()
        .bucket(&reports)
        .key("reports/2026-11-26/060008Z/report.json")
        .send()
        .await
        .unwrap();
    let report: Report =
        serde_json::from_slice(&o.body.collect().await.unwrap().into_bytes()).unwrap();
    assert!(report.insights[1..]
        .iter()
        .all(|r| r.error.as_deref()
            == Some("not run: the invocation's time ran out before it started")));
}

#[tokio::test]
#[ignore = "needs the moto server (.ci/test)"]
async fn a_missing_workgroup_fails_every_insight_with_athenas_message() {
    let athena = athena_client("eu-west-3");
    let s3 = s3_client();
    let reports = bucket(&s3, "reports").await;
    let missing = unique("no-such-workgroup");
    let config = config(&missing, &reports, None);
    let runner = Athena {
        client: athena,
        workgroup: missing,
        database: config.database.clone(),
        output: None,
        backoff: FAST,
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T06:00:09Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let e = handle(
        &event(),
        &runner,
        &s3,
        None,
        &config,
        Instant::now() + Duration::from_secs(30),
        now,
    )
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("first: latest_close: athena:StartQueryExecution failed: ")
            && msg.contains("WorkGroup does not exist"),
        "{msg}"
    );
}
