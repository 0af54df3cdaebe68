-- name: period_returns
-- title: Period returns
-- description: The return of each symbol over one month, three months, one year and the year to date, as of its last trading day in the report window.
-- columns: symbol, as_of, ret_1m, ret_3m, ret_1y, ret_ytd
WITH base AS (
    -- One row per (symbol, trade_date): a replayed CSV leaves several Kafka records of the
    -- same bar: keep the latest (ts, then kafka_timestamp, then partition and offset), which
    -- is the first of its day in this order. (Comparing with the previous row, in one window
    -- per symbol, rather than ROW_NUMBER per (symbol, trade_date): a window per day is a
    -- window per row, which DataFusion evaluates several times slower.)
    SELECT symbol, trade_date, close, price, volume
    FROM (
        SELECT
            symbol,
            trade_date,
            close,
            coalesce(adj_close, close) AS price,
            volume,
            LAG(trade_date) OVER (
                PARTITION BY symbol
                ORDER BY trade_date ASC NULLS LAST, ts DESC NULLS LAST,
                         kafka_timestamp DESC NULLS LAST, kafka_partition DESC NULLS LAST,
                         kafka_offset DESC NULLS LAST
            ) AS prev_date
        FROM bars
        WHERE year BETWEEN :year_from AND :year_to
          AND trade_date >= CAST(:scan_from AS DATE)
          AND trade_date <= CAST(:to AS DATE)
          AND :symbol_filter
    ) AS ranked
    WHERE prev_date IS NULL OR prev_date <> trade_date
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
),
prices AS (
    -- The price on each anchor date, in one pass over base (a LEFT JOIN, so a symbol whose
    -- history starts after every anchor still gets its row, with NULL returns).
    SELECT
        d.symbol,
        d.as_of,
        d.price,
        max(CASE WHEN b.trade_date = d.date_1m THEN b.price END) AS price_1m,
        max(CASE WHEN b.trade_date = d.date_3m THEN b.price END) AS price_3m,
        max(CASE WHEN b.trade_date = d.date_1y THEN b.price END) AS price_1y,
        max(CASE WHEN b.trade_date = d.date_prev_year_end THEN b.price END) AS price_prev_year_end,
        max(CASE WHEN b.trade_date = d.date_year_first THEN b.price END) AS price_year_first
    FROM anchor_dates AS d
    LEFT JOIN base AS b
      ON b.symbol = d.symbol
     AND b.trade_date IN (d.date_1m, d.date_3m, d.date_1y, d.date_prev_year_end, d.date_year_first)
    GROUP BY d.symbol, d.as_of, d.price
)
SELECT
    symbol,
    as_of,
    price / NULLIF(price_1m, 0) - 1 AS ret_1m,
    price / NULLIF(price_3m, 0) - 1 AS ret_3m,
    price / NULLIF(price_1y, 0) - 1 AS ret_1y,
    price / NULLIF(coalesce(price_prev_year_end, price_year_first), 0) - 1 AS ret_ytd
FROM prices
ORDER BY symbol ASC NULLS LAST
