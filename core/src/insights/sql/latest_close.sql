-- name: latest_close
-- title: Latest close
-- description: The last close of each symbol in the report window, with the close of the previous trading day and the change over that day.
-- columns: symbol, trade_date, close, prev_date, prev_close, day_change, day_change_pct
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
with_prev AS (
    -- The previous trading day may lie before the window.
    SELECT
        symbol,
        trade_date,
        close,
        LAG(trade_date) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS prev_date,
        LAG(close) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS prev_close
    FROM base
),
latest AS (
    SELECT
        symbol, trade_date, close, prev_date, prev_close,
        ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date DESC NULLS LAST) AS rn
    FROM with_prev
    WHERE trade_date >= CAST(:from AS DATE)
)
SELECT
    symbol,
    trade_date,
    close,
    prev_date,
    prev_close,
    close - prev_close AS day_change,
    close / NULLIF(prev_close, 0) - 1 AS day_change_pct
FROM latest
WHERE rn = 1
ORDER BY symbol ASC NULLS LAST
