//! The crawler handler against canned Glue answers (aws-smithy-mocks): every outcome of
//! `StartCrawler`, the wait until READY, a failed last crawl, and the tables and partition
//! counts read through paginated `GetTables` / `GetPartitions`.

use aws_sdk_glue::error::ErrorMetadata;
use aws_sdk_glue::operation::get_crawler::GetCrawlerOutput;
use aws_sdk_glue::operation::get_crawler_metrics::{
    GetCrawlerMetricsError, GetCrawlerMetricsOutput,
};
use aws_sdk_glue::operation::get_partitions::GetPartitionsOutput;
use aws_sdk_glue::operation::get_tables::GetTablesOutput;
use aws_sdk_glue::operation::start_crawler::{StartCrawlerError, StartCrawlerOutput};
use aws_sdk_glue::types::error::{CrawlerRunningException, EntityNotFoundException};
use aws_sdk_glue::types::{
    Column, Crawler, CrawlerMetrics, CrawlerState, LastCrawlInfo, LastCrawlStatus, Partition,
    StorageDescriptor, Table,
};
use aws_sdk_glue::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use std::time::Duration;
use stockstream_crawler::config::CrawlerConfig;
use stockstream_crawler::handler::{handle, CrawlerError, Outcome, ScheduledEvent};
use stockstream_lambda::backoff::Backoff;

const NAME: &str = "stockstream-lake";

fn event() -> ScheduledEvent {
    stockstream_lambda::testing::sample_event("crawler-scheduled")
}

fn config(database: Option<&str>) -> CrawlerConfig {
    CrawlerConfig {
        crawler_name: NAME.into(),
        wait: Duration::from_secs(60),
        database: database.map(str::to_string),
    }
}

fn client(rules: &[&Rule]) -> Client {
    mock_client!(aws_sdk_glue, RuleMode::MatchAny, rules)
}

fn start_ok() -> Rule {
    mock!(Client::start_crawler)
        .match_requests(|r| r.name() == Some(NAME))
        .then_output(|| StartCrawlerOutput::builder().build())
}

fn crawler(state: CrawlerState, last: Option<LastCrawlInfo>) -> GetCrawlerOutput {
    GetCrawlerOutput::builder()
        .crawler(
            Crawler::builder()
                .name(NAME)
                .state(state)
                .set_last_crawl(last)
                .build(),
        )
        .build()
}

fn last(status: LastCrawlStatus, message: Option<&str>) -> LastCrawlInfo {
    LastCrawlInfo::builder()
        .status(status)
        .set_error_message(message.map(str::to_string))
        .log_group("/aws-glue/crawlers")
        .log_stream(NAME)
        .build()
}

fn metrics_ok() -> Rule {
    mock!(Client::get_crawler_metrics)
        .match_requests(|r| r.crawler_name_list() == [NAME.to_string()])
        .then_output(|| {
            GetCrawlerMetricsOutput::builder()
                .crawler_metrics_list(
                    CrawlerMetrics::builder()
                        .crawler_name(NAME)
                        .tables_created(1)
                        .tables_updated(2)
                        .last_runtime_seconds(61.5)
                        .build(),
                )
                .build()
        })
}

fn table(name: &str, keys: &[&str]) -> Table {
    let mut t = Table::builder().name(name).storage_descriptor(
        StorageDescriptor::builder()
            .location(format!("s3://lake/{name}/"))
            .build(),
    );
    for k in keys {
        t = t.partition_keys(Column::builder().name(*k).r#type("string").build().unwrap());
    }
    t.build().unwrap()
}

fn partitions(years: &[&str]) -> Vec<Partition> {
    years
        .iter()
        .map(|y| Partition::builder().values(*y).build())
        .collect()
}

#[tokio::test]
async fn a_new_crawl_is_started_and_not_waited_for() {
    let start = start_ok();
    let get = mock!(Client::get_crawler).then_output(|| crawler(CrawlerState::Ready, None));
    let glue = client(&[&start, &get]);
    let s = handle(
        &glue,
        &config(None),
        &event(),
        Backoff::NONE,
        Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!(s.outcome, Outcome::Started);
    assert_eq!(s.crawler, NAME);
    assert_eq!(s.scheduled_at.as_deref(), Some("2026-11-26T01:15:00Z"));
    assert_eq!((&s.wait, &s.tables), (&None, &None));
    assert_eq!((start.num_calls(), get.num_calls()), (1, 0));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["outcome"], "started");
}

#[tokio::test]
async fn a_crawl_in_progress_is_success() {
    let start = mock!(Client::start_crawler).then_error(|| {
        StartCrawlerError::CrawlerRunningException(
            CrawlerRunningException::builder()
                .message(format!("Crawler with name {NAME} has already started"))
                .meta(
                    ErrorMetadata::builder()
                        .code("CrawlerRunningException")
                        .build(),
                )
                .build(),
        )
    });
    let glue = client(&[&start]);
    let s = handle(
        &glue,
        &config(None),
        &event(),
        Backoff::NONE,
        Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!(s.outcome, Outcome::AlreadyRunning);
    assert_eq!(
        serde_json::to_value(&s).unwrap()["outcome"],
        "already_running"
    );
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn a_missing_crawler_is_a_clear_error() {
    let start = mock!(Client::start_crawler).then_error(|| {
        StartCrawlerError::EntityNotFoundException(
            EntityNotFoundException::builder()
                .message(format!("Crawler entry with name {NAME} does not exist"))
                .meta(
                    ErrorMetadata::builder()
                        .code("EntityNotFoundException")
                        .message(format!("Crawler entry with name {NAME} does not exist"))
                        .build(),
                )
                .build(),
        )
    });
    let glue = client(&[&start]);
    let e = handle(
        &glue,
        &config(None),
        &event(),
        Backoff::NONE,
        Duration::ZERO,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CrawlerError::CrawlerNotFound { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("Glue crawler \"stockstream-lake\" not found"),
        "{msg}"
    );
    assert!(msg.contains("CRAWLER_NAME"), "{msg}");
    assert!(msg.contains("does not exist"), "Glue's message kept: {msg}");
}

#[tokio::test]
async fn access_denied_names_the_action_and_crawler() {
    let start = mock!(Client::start_crawler).then_error(|| {
        StartCrawlerError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User is not authorized to perform: glue:StartCrawler")
                .build(),
        )
    });
    let glue = client(&[&start]);
    let e = handle(
        &glue,
        &config(None),
        &event(),
        Backoff::NONE,
        Duration::ZERO,
    )
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            CrawlerError::AccessDenied {
                action: "StartCrawler",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        msg.contains("glue:StartCrawler on crawler \"stockstream-lake\""),
        "{msg}"
    );
}

#[tokio::test]
async fn waits_until_ready_then_reports_tables_and_partitions() {
    let start = start_ok();
    let get = mock!(Client::get_crawler)
        .match_requests(|r| r.name() == Some(NAME))
        .sequence()
        .output(|| crawler(CrawlerState::Running, None))
        .times(2)
        .output(|| {
            crawler(
                CrawlerState::Ready,
                Some(last(LastCrawlStatus::Succeeded, None)),
            )
        })
        .build();
    let metrics = metrics_ok();
    // Two pages of tables: the token of the first is sent with the second request.
    let tables_1 = mock!(Client::get_tables)
        .match_requests(|r| r.database_name() == Some("stockstream") && r.next_token().is_none())
        .then_output(|| {
            GetTablesOutput::builder()
                .table_list(table("bars", &["year"]))
                .next_token("tables-2")
                .build()
        });
    let tables_2 = mock!(Client::get_tables)
        .match_requests(|r| r.next_token() == Some("tables-2"))
        .then_output(|| {
            GetTablesOutput::builder()
                .table_list(table("quarantine", &[]))
                .build()
        });
    let parts_1 = mock!(Client::get_partitions)
        .match_requests(|r| r.table_name() == Some("bars") && r.next_token().is_none())
        .then_output(|| {
            GetPartitionsOutput::builder()
                .set_partitions(Some(partitions(&["1986", "1987", "1988"])))
                .next_token("parts-2")
                .build()
        });
    let parts_2 = mock!(Client::get_partitions)
        .match_requests(|r| r.table_name() == Some("bars") && r.next_token() == Some("parts-2"))
        .then_output(|| {
            GetPartitionsOutput::builder()
                .set_partitions(Some(partitions(&["1989", "1990"])))
                .build()
        });
    let glue = client(&[
        &start, &get, &metrics, &tables_1, &tables_2, &parts_1, &parts_2,
    ]);
    let backoff = Backoff {
        first: Duration::from_millis(1),
        factor: 2.0,
        max: Duration::from_millis(4),
    };
    let s = handle(
        &glue,
        &config(Some("stockstream")),
        &event(),
        backoff,
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let w = s.wait.as_ref().unwrap();
    assert!(w.finished);
    assert_eq!((w.state.as_str(), w.polls), ("READY", 3));
    let lc = w.last_crawl.as_ref().unwrap();
    assert_eq!(lc.status, "SUCCEEDED");
    assert_eq!(
        lc.log.as_deref(),
        Some("/aws-glue/crawlers stockstream-lake")
    );
    let m = w.metrics.as_ref().unwrap();
    assert_eq!(
        (m.tables_created, m.tables_updated, m.last_runtime_seconds),
        (1, 2, 61.5)
    );
    let t = s.tables.as_ref().unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(
        (
            t[0].name.as_str(),
            t[0].partitions,
            t[0].partition_keys.clone()
        ),
        ("bars", 5, vec!["year".to_string()])
    );
    assert_eq!(t[0].location.as_deref(), Some("s3://lake/bars/"));
    assert_eq!((t[1].name.as_str(), t[1].partitions), ("quarantine", 0));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(get.num_calls(), 3);
    for r in [&tables_1, &tables_2, &parts_1, &parts_2] {
        assert_eq!(r.num_calls(), 1);
    }
}

#[tokio::test]
async fn a_failed_crawl_fails_with_glues_message() {
    let start = start_ok();
    let get = mock!(Client::get_crawler).then_output(|| {
        crawler(
            CrawlerState::Ready,
            Some(last(
                LastCrawlStatus::Failed,
                Some("Service Principal: glue.amazonaws.com is not authorized to perform: s3:GetObject"),
            )),
        )
    });
    let tables = mock!(Client::get_tables).then_output(|| GetTablesOutput::builder().build());
    let glue = client(&[&start, &get, &tables]);
    let e = handle(
        &glue,
        &config(Some("stockstream")),
        &event(),
        Backoff::NONE,
        Duration::from_secs(30),
    )
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "the last crawl of Glue crawler \"stockstream-lake\" FAILED: Service Principal"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("log: /aws-glue/crawlers stockstream-lake"),
        "{msg}"
    );
    assert_eq!(
        tables.num_calls(),
        0,
        "no tables listed after a failed crawl"
    );
}

#[tokio::test]
async fn a_crawl_longer_than_the_budget_is_reported_unfinished() {
    let start = start_ok();
    let get = mock!(Client::get_crawler).then_output(|| crawler(CrawlerState::Running, None));
    let tables = mock!(Client::get_tables).then_output(|| GetTablesOutput::builder().build());
    let glue = client(&[&start, &get, &tables]);
    let backoff = Backoff {
        first: Duration::from_millis(5),
        factor: 1.0,
        max: Duration::from_millis(5),
    };
    let s = handle(
        &glue,
        &config(Some("stockstream")),
        &event(),
        backoff,
        Duration::from_millis(40),
    )
    .await
    .unwrap();
    let w = s.wait.unwrap();
    assert!(!w.finished);
    assert_eq!(w.state, "RUNNING");
    assert!(w.waited_ms >= 40, "{}", w.waited_ms);
    assert!((2..=9).contains(&w.polls), "{} polls", w.polls);
    assert!(
        s.warnings[0].starts_with("crawler still RUNNING"),
        "{:?}",
        s.warnings
    );
    assert_eq!(tables.num_calls(), 0);
}

#[tokio::test]
async fn missing_metrics_are_a_warning_not_a_failure() {
    let start = start_ok();
    let get = mock!(Client::get_crawler).then_output(|| {
        crawler(
            CrawlerState::Ready,
            Some(last(LastCrawlStatus::Succeeded, None)),
        )
    });
    let metrics = mock!(Client::get_crawler_metrics).then_error(|| {
        GetCrawlerMetricsError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform: glue:GetCrawlerMetrics")
                .build(),
        )
    });
    let glue = client(&[&start, &get, &metrics]);
    let s = handle(
        &glue,
        &config(None),
        &event(),
        Backoff::NONE,
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert!(s.wait.as_ref().unwrap().metrics.is_none());
    assert_eq!(s.tables, None, "no GLUE_DATABASE, no tables");
    assert_eq!(
        s.warnings,
        ["glue:GetCrawlerMetrics on \"stockstream-lake\": AccessDeniedException: not authorized to perform: glue:GetCrawlerMetrics"]
    );
}
