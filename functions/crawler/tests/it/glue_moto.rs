//! The crawler handler against a real Glue API on the wire (the moto server that `.ci/test`
//! starts on 127.0.0.1, address in `STOCKSTREAM_TEST_S3_ENDPOINT`).
//!
//! What moto does, read from its source (moto 5.2.5, `moto/glue/models.py`): `StartCrawler`
//! records a crawl that stays RUNNING (transition `glue::crawl` is "manual, 1 step") until
//! something calls `ListCrawls`, which is what these tests use to end a crawl. A second start
//! meanwhile raises `CrawlerRunningException`, an unknown name `EntityNotFoundException`. The
//! finished crawl's status is `COMPLETED` (real Glue says `SUCCEEDED`), it crawls nothing
//! (so the tests create the tables and partitions a crawl would have made), and
//! `GetCrawlerMetrics` is not implemented (HTTP 500).

use aws_sdk_glue::config::retry::RetryConfig;
use aws_sdk_glue::types::{
    Column, CrawlerState, CrawlerTargets, DatabaseInput, PartitionInput, S3Target,
    StorageDescriptor, TableInput,
};
use aws_sdk_glue::Client;
use std::time::Duration;
use stockstream_crawler::config::CrawlerConfig;
use stockstream_crawler::handler::{handle, CrawlerError, Outcome, ScheduledEvent};
use stockstream_lambda::backoff::Backoff;

use stockstream_store::moto::{sdk, unique};

fn client() -> Client {
    // moto answers GetCrawlerMetrics with HTTP 500: one retry is enough to show it is
    // handled, more only slows the test down.
    let conf = aws_sdk_glue::config::Builder::from(&sdk("us-east-1"))
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .build();
    Client::from_conf(conf)
}

fn event() -> ScheduledEvent {
    stockstream_lambda::testing::sample_event("crawler-scheduled")
}

/// A database and a crawler over an S3 path, as the SAM template declares them.
async fn crawler(glue: &Client) -> (String, String) {
    // Glue database names: lower case, digits and underscores.
    let db = unique("stockstream").replace('-', "_");
    let name = unique("stockstream-lake");
    glue.create_database()
        .database_input(DatabaseInput::builder().name(&db).build().unwrap())
        .send()
        .await
        .unwrap();
    glue.create_crawler()
        .name(&name)
        .role("arn:aws:iam::123456789012:role/stockstream-crawler")
        .database_name(&db)
        .targets(
            CrawlerTargets::builder()
                .s3_targets(S3Target::builder().path("s3://lake/lake/bars/").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    (db, name)
}

fn config(name: &str, database: Option<&str>) -> CrawlerConfig {
    CrawlerConfig {
        crawler_name: name.to_string(),
        wait: Duration::ZERO,
        database: database.map(str::to_string),
    }
}

#[tokio::test]
#[ignore = "needs the moto server (.ci/test)"]
async fn started_then_already_running_then_a_missing_crawler_is_named() {
    let glue = client();
    let (_, name) = crawler(&glue).await;
    let c = config(&name, None);
    let s = handle(&glue, &c, &event(), Backoff::NONE, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Started);
    let state = glue.get_crawler().name(&name).send().await.unwrap();
    assert_eq!(
        state.crawler().and_then(|c| c.state()),
        Some(&CrawlerState::Running),
        "the start reached Glue"
    );
    let again = handle(&glue, &c, &event(), Backoff::NONE, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyRunning);

    let missing = unique("no-such-crawler");
    let e = handle(
        &glue,
        &config(&missing, None),
        &event(),
        Backoff::NONE,
        Duration::ZERO,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CrawlerError::CrawlerNotFound { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("Glue crawler {missing:?} not found")),
        "{msg}"
    );
    assert!(msg.contains("EntityNotFoundException"), "{msg}");
}

#[tokio::test]
#[ignore = "needs the moto server (.ci/test)"]
async fn waits_for_the_crawl_then_lists_tables_and_partitions() {
    let glue = client();
    let (db, name) = crawler(&glue).await;
    // What a crawl of the lake leaves in the catalog: the bars table partitioned by year, and
    // the unpartitioned quarantine table.
    let col = |n: &str, t: &str| Column::builder().name(n).r#type(t).build().unwrap();
    let table = |n: &str, keys: Vec<Column>| {
        TableInput::builder()
            .name(n)
            .storage_descriptor(
                StorageDescriptor::builder()
                    .location(format!("s3://lake/lake/{n}/"))
                    .columns(col("symbol", "string"))
                    .build(),
            )
            .set_partition_keys(Some(keys))
            .build()
            .unwrap()
    };
    for t in [
        table("bars", vec![col("year", "string")]),
        table("quarantine", vec![]),
    ] {
        glue.create_table()
            .database_name(&db)
            .table_input(t)
            .send()
            .await
            .unwrap();
    }
    let mut batch = glue
        .batch_create_partition()
        .database_name(&db)
        .table_name("bars");
    for y in ["2019", "2020", "2021"] {
        batch = batch.partition_input_list(PartitionInput::builder().values(y).build());
    }
    batch.send().await.unwrap();

    let c = CrawlerConfig {
        database: Some(db.clone()),
        ..config(&name, None)
    };
    let backoff = Backoff {
        first: Duration::from_millis(50),
        factor: 2.0,
        max: Duration::from_millis(200),
    };
    // Nobody ends the crawl: the wait runs out and says so; no tables are listed mid-crawl.
    let s = handle(&glue, &c, &event(), backoff, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Started);
    let w = s.wait.as_ref().unwrap();
    assert!(!w.finished && w.polls >= 2, "{w:?}");
    assert_eq!(w.state, "RUNNING");
    assert_eq!(s.tables, None);

    // The crawl ends (ListCrawls advances moto's crawl) while the next invocation waits.
    let s = ending_the_crawl(
        &glue,
        &name,
        handle(&glue, &c, &event(), backoff, Duration::from_secs(20)),
    )
    .await
    .unwrap();
    assert_eq!(s.outcome, Outcome::AlreadyRunning);
    let w = s.wait.as_ref().unwrap();
    assert!(w.finished, "{w:?}");
    assert_eq!(w.state, "READY");
    let last = w.last_crawl.as_ref().unwrap();
    assert_eq!(last.status, "COMPLETED", "moto's word for SUCCEEDED");
    assert_eq!(
        last.log.as_deref(),
        Some(format!("/aws-glue/crawlers {name}").as_str())
    );
    assert!(last.started_at.is_some());
    assert_eq!(w.metrics, None);
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(
        s.warnings[0].starts_with(&format!("glue:GetCrawlerMetrics on {name:?}: ")),
        "{:?}",
        s.warnings
    );
    let tables = s.tables.unwrap();
    let got: Vec<_> = tables
        .iter()
        .map(|t| (t.name.as_str(), t.partitions, t.partition_keys.join(",")))
        .collect();
    assert_eq!(
        got,
        [
            ("bars", 3, "year".to_string()),
            ("quarantine", 0, String::new())
        ]
    );
    assert_eq!(tables[0].location.as_deref(), Some("s3://lake/lake/bars/"));

    // A database that does not exist is named (this run starts a new crawl, ended aside).
    let c = CrawlerConfig {
        database: Some("no_such_db".into()),
        ..config(&name, None)
    };
    let e = ending_the_crawl(
        &glue,
        &name,
        handle(&glue, &c, &event(), backoff, Duration::from_secs(20)),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Glue database \"no_such_db\" not found"),
        "{e}"
    );
}

/// Runs `run` while a side task ends the crawler's current crawl after 150 ms, as Glue would
/// when a crawl finishes.
async fn ending_the_crawl<T>(
    glue: &Client,
    name: &str,
    run: impl std::future::Future<Output = T>,
) -> T {
    let ender = {
        let (glue, name) = (glue.clone(), name.to_string());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            glue.list_crawls().crawler_name(&name).send().await.unwrap();
        })
    };
    let out = run.await;
    ender.await.unwrap();
    out
}
