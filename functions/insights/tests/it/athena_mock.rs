//! The Athena runner and the whole handler against canned Athena and S3 answers
//! (aws-smithy-mocks): the polling states, paged and typed results, failures, timeouts, and a
//! report that lists failed insights next to the ones that ran.

use aws_sdk_athena::operation::get_query_execution::GetQueryExecutionOutput;
use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_athena::operation::start_query_execution::StartQueryExecutionOutput;
use aws_sdk_athena::operation::stop_query_execution::StopQueryExecutionOutput;
use aws_sdk_athena::types::{
    ColumnInfo, Datum, QueryExecution, QueryExecutionState, QueryExecutionStatus, ResultSet,
    ResultSetMetadata, Row,
};
use aws_sdk_athena::Client;
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stockstream_core::insights::runner::run_one;
use stockstream_core::insights::{self, athena_literal, bind, by_name, Params, Placeholders};
use stockstream_core::report::Report;
use stockstream_insights::athena::Athena;
use stockstream_insights::config::InsightsConfig;
use stockstream_insights::event::ScheduledEvent;
use stockstream_insights::handler::{handle, InsightsError, Output};
use stockstream_lambda::backoff::Backoff;

fn athena(client: Client, backoff: Backoff) -> Athena {
    Athena {
        client,
        workgroup: "stockstream".into(),
        database: "stockstream_lake".into(),
        output: Some("s3://athena-results/stockstream/".into()),
        backoff,
    }
}

fn params() -> Params {
    Params::new(
        Params::date("from", "2021-01-04").unwrap(),
        Params::date("to", "2021-06-30").unwrap(),
        vec!["HSI".into(), "N225".into()],
        None,
    )
    .unwrap()
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

fn execution(
    id: &str,
    state: QueryExecutionState,
    reason: Option<&str>,
) -> GetQueryExecutionOutput {
    GetQueryExecutionOutput::builder()
        .query_execution(
            QueryExecution::builder()
                .query_execution_id(id)
                .status(
                    QueryExecutionStatus::builder()
                        .state(state)
                        .set_state_change_reason(reason.map(str::to_string))
                        .build(),
                )
                .build(),
        )
        .build()
}

/// A row of cells; `None` is a cell without `VarCharValue` (NULL).
fn row(cells: &[Option<&str>]) -> Row {
    Row::builder()
        .set_data(Some(
            cells
                .iter()
                .map(|c| {
                    Datum::builder()
                        .set_var_char_value(c.map(str::to_string))
                        .build()
                })
                .collect(),
        ))
        .build()
}

fn header(columns: &[&str]) -> Row {
    row(&columns.iter().map(|c| Some(*c)).collect::<Vec<_>>())
}

/// A results page: the column metadata (`(name, type)`), rows, and the next page's token.
fn page(columns: &[(&str, &str)], rows: Vec<Row>, next: Option<&str>) -> GetQueryResultsOutput {
    let mut meta = ResultSetMetadata::builder();
    for (name, ty) in columns {
        meta = meta.column_info(
            ColumnInfo::builder()
                .name(*name)
                .r#type(*ty)
                .build()
                .unwrap(),
        );
    }
    GetQueryResultsOutput::builder()
        .result_set(
            ResultSet::builder()
                .result_set_metadata(meta.build())
                .set_rows(Some(rows))
                .build(),
        )
        .set_next_token(next.map(str::to_string))
        .build()
}

const TOP_MOVERS: [(&str, &str); 8] = [
    ("side", "varchar"),
    ("rank", "bigint"),
    ("symbol", "varchar"),
    ("first_date", "date"),
    ("first_price", "double"),
    ("last_date", "date"),
    ("last_price", "double"),
    ("ret", "double"),
];

fn names(cols: &[(&'static str, &str)]) -> Vec<&'static str> {
    cols.iter().map(|(n, _)| *n).collect()
}

/// `StartQueryExecution` for top_movers, checking what is sent: the workgroup, database,
/// output location, `?` placeholders and the quoted literal values in order.
fn start_top_movers() -> Rule {
    let insight = by_name("top_movers").unwrap();
    let bound = bind(insight.sql, &params(), Placeholders::Question).unwrap();
    let literals: Vec<String> = bound.values.iter().map(|v| athena_literal(v)).collect();
    mock!(Client::start_query_execution)
        .match_requests(move |r| {
            r.query_string() == Some(bound.sql.as_str())
                && r.work_group() == Some("stockstream")
                && r.query_execution_context().and_then(|c| c.database())
                    == Some("stockstream_lake")
                && r.result_configuration().and_then(|c| c.output_location())
                    == Some("s3://athena-results/stockstream/")
                && r.execution_parameters() == literals.as_slice()
        })
        .then_output(|| {
            StartQueryExecutionOutput::builder()
                .query_execution_id("q-1")
                .build()
        })
}

fn results_two_pages() -> (Rule, Rule) {
    let first = mock!(Client::get_query_results)
        .match_requests(|r| r.query_execution_id() == Some("q-1") && r.next_token().is_none())
        .then_output(|| {
            page(
                &TOP_MOVERS,
                vec![
                    header(&names(&TOP_MOVERS)),
                    row(&[
                        Some("gainer"),
                        Some("1"),
                        Some("N225"),
                        Some("2021-01-04"),
                        Some("27258.38"),
                        Some("2021-06-30"),
                        Some("28791.53"),
                        Some("0.0562"),
                    ]),
                    row(&[
                        Some("gainer"),
                        Some("2"),
                        Some("HSI"),
                        Some("2021-01-04"),
                        Some("27472.81"),
                        Some("2021-06-30"),
                        Some("28827.95"),
                        Some("0.0493"),
                    ]),
                ],
                Some("page-2"),
            )
        });
    // Later pages carry no header row.
    let second = mock!(Client::get_query_results)
        .match_requests(|r| {
            r.query_execution_id() == Some("q-1") && r.next_token() == Some("page-2")
        })
        .then_output(|| {
            page(
                &TOP_MOVERS,
                vec![row(&[
                    Some("loser"),
                    Some("1"),
                    Some("HSI"),
                    Some("2021-01-04"),
                    None,
                    Some("2021-06-30"),
                    Some(""),
                    None,
                ])],
                None,
            )
        });
    (first, second)
}

#[tokio::test]
async fn queued_running_succeeded_then_two_typed_pages() {
    let start = start_top_movers();
    let get = mock!(Client::get_query_execution)
        .match_requests(|r| r.query_execution_id() == Some("q-1"))
        .sequence()
        .output(|| execution("q-1", QueryExecutionState::Queued, None))
        .output(|| execution("q-1", QueryExecutionState::Running, None))
        .output(|| execution("q-1", QueryExecutionState::Succeeded, None))
        .build();
    let (p1, p2) = results_two_pages();
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&start, &get, &p1, &p2]);
    let r = run_one(
        &athena(client, Backoff::NONE),
        &by_name("top_movers").unwrap(),
        &params(),
        Some(later()),
    )
    .await;
    assert_eq!(r.error, None);
    assert_eq!(r.columns, names(&TOP_MOVERS));
    assert_eq!(
        r.rows,
        [
            vec![
                json!("gainer"),
                json!(1),
                json!("N225"),
                json!("2021-01-04"),
                json!(27258.38),
                json!("2021-06-30"),
                json!(28791.53),
                json!(0.0562)
            ],
            vec![
                json!("gainer"),
                json!(2),
                json!("HSI"),
                json!("2021-01-04"),
                json!(27472.81),
                json!("2021-06-30"),
                json!(28827.95),
                json!(0.0493)
            ],
            vec![
                json!("loser"),
                json!(1),
                json!("HSI"),
                json!("2021-01-04"),
                Value::Null,
                json!("2021-06-30"),
                Value::Null,
                Value::Null
            ],
        ]
    );
    assert!(r.rows[0][1].is_i64(), "bigint is an integer");
    assert_eq!(start.num_calls(), 1);
    assert_eq!(get.num_calls(), 3);
    assert_eq!((p1.num_calls(), p2.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_failed_query_fails_the_insight_with_athenas_reason() {
    let start = start_top_movers();
    let get = mock!(Client::get_query_execution)
        .sequence()
        .output(|| execution("q-1", QueryExecutionState::Running, None))
        .output(|| {
            execution(
                "q-1",
                QueryExecutionState::Failed,
                Some("TABLE_NOT_FOUND: line 12:10: Table 'awsdatacatalog.stockstream_lake.bars' does not exist"),
            )
        })
        .build();
    let results = mock!(Client::get_query_results)
        .then_output(|| page(&TOP_MOVERS, vec![header(&names(&TOP_MOVERS))], None));
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&start, &get, &results]);
    let r = run_one(
        &athena(client, Backoff::NONE),
        &by_name("top_movers").unwrap(),
        &params(),
        Some(later()),
    )
    .await;
    assert_eq!(
        r.error.as_deref(),
        Some("query q-1 FAILED: TABLE_NOT_FOUND: line 12:10: Table 'awsdatacatalog.stockstream_lake.bars' does not exist")
    );
    assert!(r.rows.is_empty());
    assert_eq!(results.num_calls(), 0);
}

#[tokio::test]
async fn a_query_back_in_the_queue_is_polled_on() {
    let start = start_top_movers();
    let get = mock!(Client::get_query_execution)
        .sequence()
        .output(|| execution("q-1", QueryExecutionState::Running, None))
        .output(|| execution("q-1", QueryExecutionState::Queued, None))
        .output(|| execution("q-1", QueryExecutionState::Running, None))
        .output(|| execution("q-1", QueryExecutionState::Succeeded, None))
        .build();
    let (p1, p2) = results_two_pages();
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&start, &get, &p1, &p2]);
    let r = run_one(
        &athena(client, Backoff::NONE),
        &by_name("top_movers").unwrap(),
        &params(),
        Some(later()),
    )
    .await;
    assert_eq!(r.error, None);
    assert_eq!(r.rows.len(), 3);
    assert_eq!(get.num_calls(), 4);
}

#[tokio::test]
async fn a_query_past_its_deadline_is_stopped_and_fails() {
    let start = start_top_movers();
    let get = mock!(Client::get_query_execution)
        .then_output(|| execution("q-1", QueryExecutionState::Running, None));
    let stop = mock!(Client::stop_query_execution)
        .match_requests(|r| r.query_execution_id() == Some("q-1"))
        .then_output(|| StopQueryExecutionOutput::builder().build());
    let results = mock!(Client::get_query_results)
        .then_output(|| page(&TOP_MOVERS, vec![header(&names(&TOP_MOVERS))], None));
    let client = mock_client!(
        aws_sdk_athena,
        RuleMode::MatchAny,
        [&start, &get, &stop, &results]
    );
    let backoff = Backoff {
        first: Duration::from_millis(2),
        factor: 1.5,
        max: Duration::from_millis(10),
    };
    let t0 = Instant::now();
    let r = run_one(
        &athena(client, backoff),
        &by_name("top_movers").unwrap(),
        &params(),
        Some(t0 + Duration::from_millis(50)),
    )
    .await;
    assert!(t0.elapsed() >= Duration::from_millis(50));
    assert_eq!(
        r.error.as_deref(),
        Some("timed out after 0 s; query q-1 stopped")
    );
    assert_eq!(stop.num_calls(), 1);
    assert!(get.num_calls() >= 3, "polled until the deadline");
    assert_eq!(results.num_calls(), 0);
}

#[tokio::test]
async fn results_that_do_not_match_the_insight_fail_it() {
    for (rows, want) in [
        (
            vec![header(&["side", "rank"])],
            "returned columns [\"side\", \"rank\"], expected",
        ),
        (vec![], "query q-1: no header row in the results"),
        (
            vec![
                header(&names(&TOP_MOVERS)),
                row(&[
                    Some("gainer"),
                    Some("first"),
                    Some("HSI"),
                    None,
                    None,
                    None,
                    None,
                    None,
                ]),
            ],
            "query q-1: row 1, column rank: \"first\" is not an integer (bigint)",
        ),
    ] {
        let start = start_top_movers();
        let get = mock!(Client::get_query_execution)
            .then_output(|| execution("q-1", QueryExecutionState::Succeeded, None));
        let cols: Vec<(&str, &str)> = if rows.first().map_or(8, |h| h.data().len()) == 2 {
            TOP_MOVERS[..2].to_vec()
        } else {
            TOP_MOVERS.to_vec()
        };
        let results =
            mock!(Client::get_query_results).then_output(move || page(&cols, rows.clone(), None));
        let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&start, &get, &results]);
        let r = run_one(
            &athena(client, Backoff::NONE),
            &by_name("top_movers").unwrap(),
            &params(),
            Some(later()),
        )
        .await;
        let e = r.error.unwrap();
        assert!(e.starts_with(want), "{e}");
        assert!(r.rows.is_empty());
    }
}

// --- The whole handler: every insight, one report. ---

/// The insight a bound query belongs to, from its `-- name:` header line (comments survive
/// binding).
fn insight_of(sql: &str) -> String {
    sql.lines()
        .find_map(|l| l.strip_prefix("-- name:"))
        .unwrap()
        .trim()
        .to_string()
}

/// Athena that runs every insight as query `<name>`: FAILED for those in `failing`, else
/// SUCCEEDED with a header and one row of text cells (varchar columns).
fn suite_client(failing: &'static [&'static str]) -> (Client, Rule) {
    let start = mock!(Client::start_query_execution).then_compute_output(|r| {
        StartQueryExecutionOutput::builder()
            .query_execution_id(insight_of(r.query_string().unwrap()))
            .build()
    });
    let get = mock!(Client::get_query_execution).then_compute_output(move |r| {
        let id = r.query_execution_id().unwrap();
        if failing.contains(&id) {
            execution(
                id,
                QueryExecutionState::Failed,
                Some("COLUMN_NOT_FOUND: line 9:5: Column 'adj_close' cannot be resolved"),
            )
        } else {
            execution(id, QueryExecutionState::Succeeded, None)
        }
    });
    let results = mock!(Client::get_query_results).then_compute_output(|r| {
        let insight = by_name(r.query_execution_id().unwrap()).unwrap();
        let cols: Vec<(&str, &str)> = insight.columns.iter().map(|c| (*c, "varchar")).collect();
        let cells: Vec<String> = insight.columns.iter().map(|c| format!("{c}-1")).collect();
        page(
            &cols,
            vec![
                header(&insight.columns),
                row(&cells.iter().map(|c| Some(c.as_str())).collect::<Vec<_>>()),
            ],
            None,
        )
    });
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, [&start, &get, &results]);
    (client, start)
}

type Objects = Arc<Mutex<BTreeMap<String, (String, Vec<u8>)>>>;

/// S3 that keeps what is put: key → (content type, bytes).
fn s3() -> (aws_sdk_s3::Client, Objects, Rule) {
    let objects: Objects = Arc::default();
    let seen = objects.clone();
    let put = mock!(aws_sdk_s3::Client::put_object)
        .match_requests(move |r| {
            seen.lock().unwrap().insert(
                format!("{}/{}", r.bucket().unwrap(), r.key().unwrap()),
                (
                    r.content_type().unwrap_or_default().to_string(),
                    r.body().bytes().unwrap().to_vec(),
                ),
            );
            true
        })
        .then_output(|| PutObjectOutput::builder().build());
    let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&put]);
    (client, objects, put)
}

fn config() -> InsightsConfig {
    InsightsConfig {
        workgroup: "stockstream".into(),
        database: "stockstream_lake".into(),
        output: None,
        bucket: "reports-bucket".into(),
        prefix: "reports".into(),
        days: 365,
        symbols: vec![],
        benchmark: None,
        pairs: 10,
        insight_deadline: None,
        reports_topic: None,
        link_days: 7,
    }
}

fn event() -> ScheduledEvent {
    stockstream_lambda::testing::sample_event("insights-scheduled")
}

fn run_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T06:00:07Z")
        .unwrap()
        .with_timezone(&Utc)
}

const FOLDER: &str = "reports-bucket/reports/2026-11-26/060007Z";

#[tokio::test]
async fn one_failing_insight_is_reported_next_to_the_others() {
    let (client, start) = suite_client(&["volatility"]);
    let (s3, objects, put) = s3();
    let p = handle(
        &event(),
        &athena(client, Backoff::NONE),
        &s3,
        None,
        &config(),
        later(),
        run_time(),
    )
    .await
    .unwrap();
    assert_eq!(
        p.output,
        Output {
            report: format!("s3://{FOLDER}/report.html"),
            succeeded: insights::all().len() - 1,
            failed: 1,
            message_id: None,
        }
    );
    assert_eq!(start.num_calls(), insights::all().len());
    assert_eq!(put.num_calls(), insights::all().len() + 2);
    let objects = objects.lock().unwrap();
    let mut keys: Vec<&str> = objects
        .keys()
        .map(|k| k.strip_prefix(&format!("{FOLDER}/")).unwrap())
        .collect();
    keys.sort();
    let mut want: Vec<String> = insights::all()
        .iter()
        .map(|i| format!("{}.csv", i.name))
        .collect();
    want.extend(["report.html".into(), "report.json".into()]);
    want.sort();
    assert_eq!(keys, want);
    let (ct, json) = &objects[&format!("{FOLDER}/report.json")];
    assert_eq!(ct, "application/json");
    let report: Report = serde_json::from_slice(json).unwrap();
    assert_eq!(report, p.report);
    assert_eq!(report.engine, "Athena");
    assert_eq!(report.generated_at, "2026-11-26T06:00:07Z");
    assert_eq!(
        (report.params.from.to_string(), report.params.to.to_string()),
        ("2025-11-25".to_string(), "2026-11-25".to_string()),
        "365 days to the day before the event"
    );
    let v = report.insight("volatility").unwrap();
    assert_eq!(
        v.error.as_deref(),
        Some("query volatility FAILED: COLUMN_NOT_FOUND: line 9:5: Column 'adj_close' cannot be resolved")
    );
    let l = report.insight("latest_close").unwrap();
    assert!(l.succeeded());
    assert_eq!(
        l.rows,
        [l.columns
            .iter()
            .map(|c| json!(format!("{c}-1")))
            .collect::<Vec<_>>()]
    );
    assert_eq!(
        objects[&format!("{FOLDER}/report.html")].0,
        "text/html; charset=utf-8"
    );
    let (ct, csv) = &objects[&format!("{FOLDER}/latest_close.csv")];
    assert_eq!(ct, "text/csv");
    assert!(String::from_utf8_lossy(csv).starts_with("symbol,"));
}

#[tokio::test]
async fn all_insights_failing_fails_the_invocation_after_writing_the_report() {
    let all: &'static [&'static str] = Box::leak(
        insights::all()
            .iter()
            .map(|i| i.name)
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let (client, _) = suite_client(all);
    let (s3, objects, _) = s3();
    let e = handle(
        &event(),
        &athena(client, Backoff::NONE),
        &s3,
        None,
        &config(),
        later(),
        run_time(),
    )
    .await
    .unwrap_err();
    let n = insights::all().len();
    assert!(
        matches!(e, InsightsError::AllFailed { total, .. } if total == n),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!("all {n} insights failed (report at s3://{FOLDER}/report.html); first: latest_close: query latest_close FAILED: COLUMN_NOT_FOUND: line 9:5: Column 'adj_close' cannot be resolved")
    );
    let objects = objects.lock().unwrap();
    let report: Report =
        serde_json::from_slice(&objects[&format!("{FOLDER}/report.json")].1).unwrap();
    assert!(report.insights.iter().all(|r| r.error.is_some()));
}

#[tokio::test]
async fn no_time_left_runs_nothing() {
    let (client, start) = suite_client(&[]);
    let (s3, _, _) = s3();
    let e = handle(
        &event(),
        &athena(client, Backoff::NONE),
        &s3,
        None,
        &config(),
        Instant::now(),
        run_time(),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().ends_with(
            "first: latest_close: not run: the invocation's time ran out before it started"
        ),
        "{e}"
    );
    assert_eq!(start.num_calls(), 0);
}

#[tokio::test]
async fn a_bad_override_is_refused_before_any_query() {
    let (client, start) = suite_client(&[]);
    let (s3, _, put) = s3();
    let mut e = event();
    e.detail = Some(json!({"from": "2021-07-01", "to": "2021-06-30"}));
    let err = handle(
        &e,
        &athena(client, Backoff::NONE),
        &s3,
        None,
        &config(),
        later(),
        run_time(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad report parameter: the window starts 2021-07-01 after it ends 2021-06-30"
    );
    assert_eq!((start.num_calls(), put.num_calls()), (0, 0));
}
