//! The local engine on a lake the real sink wrote: a CTE the text reads twice is computed
//! once into memory first (`stockstream_local::cte`), with the same answer as the text
//! whose every reference is evaluated on its own, placeholders included.

use crate::common::{real_bars, write_lake};
use serde_json::json;
use stockstream_local::catalog::{crawl, load};
use stockstream_local::engine::Engine;

#[test]
fn a_cte_read_twice_gives_the_answer_of_the_text_evaluated_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path();
    write_lake(bucket, &real_bars(), 0);
    crawl(bucket, "lake", "stockstream").unwrap();
    let catalog = load(bucket).unwrap();
    // `up` is read twice (a self-join) and `days` once; the placeholders are spread over the
    // CTEs and the statement, so a step binds only some of them.
    let body = |up: &str| {
        format!(
            "SELECT a.symbol, count(*) AS n, round(sum(b.close - a.close), 6) AS gap
             FROM {up} AS a JOIN {up} AS b ON b.d = a.d + 1 AND b.symbol = a.symbol
             WHERE a.close > CAST($3 AS DOUBLE)
             GROUP BY a.symbol"
        )
    };
    let up = "SELECT symbol, close, d FROM days WHERE close > open";
    let days = "SELECT symbol, close, open, CAST(trade_date AS DATE) - CAST($1 AS DATE) AS d
                FROM bars WHERE year BETWEEN $2 AND '2000'";
    let with_ctes = format!("WITH days AS ({days}), up AS ({up}) {}", body("up"));
    let inlined = format!("WITH days AS ({days}) {}", body(&format!("({up})")));
    let values = ["1990-01-01".to_string(), "1990".into(), "10000".into()];
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (once, twice, again) = rt.block_on(async {
        let e = Engine::new(bucket, &catalog).await.unwrap();
        (
            e.query(&with_ctes, &values).await.unwrap(),
            e.query(&inlined, &values).await.unwrap(),
            // A second run, with its own memory tables, gives the same answer.
            e.query(&with_ctes, &values).await.unwrap(),
        )
    });
    assert_eq!(once.columns, ["symbol", "n", "gap"]);
    assert_eq!(once.rows.len(), 1, "{:?}", once.rows);
    assert_eq!(once.rows[0][0], json!("HSI"));
    assert!(once.rows[0][1].as_i64().unwrap() > 100, "{:?}", once.rows);
    assert_eq!(once.rows, twice.rows);
    assert_eq!(once.rows, again.rows);
}
