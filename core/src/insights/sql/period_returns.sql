-- name: period_returns
-- title: Period returns
-- description: The return of each symbol over one month, three months, one year and the year to date, as of its last trading day in the report window.
-- columns: symbol, as_of, ret_1m, ret_3m, ret_1y, ret_ytd
WITH base AS (
    -- One row per (symbol, trade_date): a replayed CSV leaves several Kafka records of the
    -- same bar: keep the latest (ts, then kafka_timestamp, then partition and offset).
    SELECT symbol, trade_date, close, price, volume
    FROM (
        SELECT
            symbol,
            trade_date,
            close,
            coalesce(adj_close, close) AS price,
            volume,
            ROW_NUMBER() OVER (
                PARTITION BY symbol, trade_date
                ORDER BY ts DESC NULLS LAST, kafka_timestamp DESC NULLS LAST,
                         kafka_partition DESC NULLS LAST, kafka_offset DESC NULLS LAST
            ) AS rn
        FROM bars
        WHERE year BETWEEN :year_from AND :year_to
          AND trade_date >= CAST(:scan_from AS DATE)
          AND trade_date <= CAST(:to AS DATE)
          AND :symbol_filter
    ) AS ranked
    WHERE rn = 1
),
as_of_day AS (
    SELECT symbol, trade_date AS as_of, price
    FROM (
        SELECT
            symbol, trade_date, price,
            ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date DESC NULLS LAST) AS rn
        FROM base
        WHERE trade_date >= CAST(:from AS DATE)
    ) AS last_day
    WHERE rn = 1
),
anchors AS (
    -- Calendar look-backs: a month back from the 31st clamps to the last day of that month.
    SELECT
        symbol,
        as_of,
        price,
        CAST(as_of - INTERVAL '1' MONTH AS DATE) AS anchor_1m,
        CAST(as_of - INTERVAL '3' MONTH AS DATE) AS anchor_3m,
        CAST(as_of - INTERVAL '1' YEAR AS DATE) AS anchor_1y,
        CAST(date_trunc('year', as_of) AS DATE) AS year_start,
        CAST(CAST(date_trunc('year', as_of) AS DATE) - INTERVAL '1' YEAR AS DATE) AS prev_year_start
    FROM as_of_day
),
anchor_dates AS (
    -- The last trading day on or before each anchor (NULL when the data starts later),
    -- for YTD the last day of the previous calendar year, else the first day of this one.
    SELECT
        a.symbol,
        a.as_of,
        a.price,
        max(CASE WHEN b.trade_date <= a.anchor_1m THEN b.trade_date END) AS date_1m,
        max(CASE WHEN b.trade_date <= a.anchor_3m THEN b.trade_date END) AS date_3m,
        max(CASE WHEN b.trade_date <= a.anchor_1y THEN b.trade_date END) AS date_1y,
        max(CASE WHEN b.trade_date < a.year_start AND b.trade_date >= a.prev_year_start
                 THEN b.trade_date END) AS date_prev_year_end,
        min(CASE WHEN b.trade_date >= a.year_start THEN b.trade_date END) AS date_year_first
    FROM anchors AS a
    JOIN base AS b
      ON b.symbol = a.symbol
     AND b.trade_date <= a.as_of
    GROUP BY a.symbol, a.as_of, a.price
)
SELECT
    d.symbol,
    d.as_of,
    d.price / NULLIF(p1m.price, 0) - 1 AS ret_1m,
    d.price / NULLIF(p3m.price, 0) - 1 AS ret_3m,
    d.price / NULLIF(p1y.price, 0) - 1 AS ret_1y,
    d.price / NULLIF(coalesce(pye.price, pyf.price), 0) - 1 AS ret_ytd
FROM anchor_dates AS d
LEFT JOIN base AS p1m ON p1m.symbol = d.symbol AND p1m.trade_date = d.date_1m
LEFT JOIN base AS p3m ON p3m.symbol = d.symbol AND p3m.trade_date = d.date_3m
LEFT JOIN base AS p1y ON p1y.symbol = d.symbol AND p1y.trade_date = d.date_1y
LEFT JOIN base AS pye ON pye.symbol = d.symbol AND pye.trade_date = d.date_prev_year_end
LEFT JOIN base AS pyf ON pyf.symbol = d.symbol AND pyf.trade_date = d.date_year_first
ORDER BY d.symbol ASC NULLS LAST
