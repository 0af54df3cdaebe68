-- name: volatility
-- title: Volatility
-- description: The annualised volatility of each symbol, the sample standard deviation of its daily log returns in the report window times the square root of 252.
-- columns: symbol, n_returns, daily_vol, annual_vol
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
returns AS (
    -- The first return in the window is measured from the last trading day before it.
    SELECT
        symbol,
        trade_date,
        CASE WHEN prev_price > 0 AND price > 0 THEN ln(price / prev_price) END AS r
    FROM (
        SELECT
            symbol, trade_date, price,
            LAG(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS prev_price
        FROM base
    ) AS with_prev
)
SELECT
    symbol,
    CAST(count(r) AS BIGINT) AS n_returns,
    CASE WHEN count(r) >= 2 THEN stddev_samp(r) END AS daily_vol,
    CASE WHEN count(r) >= 2 THEN stddev_samp(r) * sqrt(CAST(252 AS DOUBLE)) END AS annual_vol
FROM returns
WHERE trade_date >= CAST(:from AS DATE)
GROUP BY symbol
ORDER BY symbol ASC NULLS LAST
