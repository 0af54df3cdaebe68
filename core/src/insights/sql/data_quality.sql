-- name: data_quality
-- title: Data quality
-- description: Per symbol, how complete and how trustworthy its bars in the report window are: bars present of the trading days expected between its first and last bar (bars counts days with a bar, so a day of intraday bars counts once; a trading day is a day at least half of the lake's symbols traded), the expected days missing, runs of five or more days with volume and the same close (of intraday bars, each day's last bar), bars restated with different values (restated_days counts bars: a day of daily bars, a minute of intraday bars), and daily log returns beyond ±0.25. The listing is under Data quality issues.
-- columns: symbol, first_date, last_date, bars, expected_days, missing_days, completeness, stale_runs, restated_days, implausible_moves
WITH
-- @include: quality
expected AS (
    SELECT s.symbol, CAST(count(c.trade_date) AS BIGINT) AS expected_days
    FROM spans AS s
    LEFT JOIN calendar AS c
      ON c.trade_date >= s.first_date
     AND c.trade_date <= s.last_date
    GROUP BY s.symbol
),
counts AS (
    SELECT symbol, kind, CAST(count(*) AS BIGINT) AS n
    FROM (
        SELECT symbol, 'missing_day' AS kind FROM missing
        UNION ALL
        SELECT symbol, 'stale_run' AS kind FROM stale
        UNION ALL
        SELECT symbol, 'restatement' AS kind FROM restated WHERE version = 1
        UNION ALL
        SELECT symbol, 'implausible_move' AS kind FROM moves
    ) AS found
    GROUP BY symbol, kind
),
per_symbol AS (
    SELECT
        symbol,
        sum(CASE WHEN kind = 'missing_day' THEN n ELSE 0 END) AS missing_days,
        sum(CASE WHEN kind = 'stale_run' THEN n ELSE 0 END) AS stale_runs,
        -- Restated bars (minutes of intraday bars): the name is from when bars were days,
        -- kept because reports and Athena queries read the column by it.
        sum(CASE WHEN kind = 'restatement' THEN n ELSE 0 END) AS restated_days,
        sum(CASE WHEN kind = 'implausible_move' THEN n ELSE 0 END) AS implausible_moves
    FROM counts
    GROUP BY symbol
)
SELECT
    p.symbol,
    p.first_date,
    p.last_date,
    p.bars,
    e.expected_days,
    CAST(coalesce(q.missing_days, 0) AS BIGINT) AS missing_days,
    CAST(e.expected_days - coalesce(q.missing_days, 0) AS DOUBLE)
        / NULLIF(e.expected_days, 0) AS completeness,
    CAST(coalesce(q.stale_runs, 0) AS BIGINT) AS stale_runs,
    CAST(coalesce(q.restated_days, 0) AS BIGINT) AS restated_days,
    CAST(coalesce(q.implausible_moves, 0) AS BIGINT) AS implausible_moves
FROM spans AS p
JOIN expected AS e ON e.symbol = p.symbol
LEFT JOIN per_symbol AS q ON q.symbol = p.symbol
ORDER BY p.symbol ASC NULLS LAST
