-- name: volume_anomalies
-- title: Volume anomalies
-- description: Days in the report window whose volume lies three or more standard deviations from the mean of the previous 60 trading days of the symbol.
-- columns: symbol, trade_date, volume, n_prior, mean_volume, stddev_volume, z
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
traded AS (
    -- Days without a positive volume (missing or zero) neither count nor get scored.
    SELECT symbol, trade_date, volume, CAST(volume AS DOUBLE) AS v
    FROM base
    WHERE volume > 0
),
stats AS (
    SELECT
        symbol,
        trade_date,
        volume,
        v,
        count(v) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                       ROWS BETWEEN 60 PRECEDING AND 1 PRECEDING) AS n_prior,
        avg(v) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                     ROWS BETWEEN 60 PRECEDING AND 1 PRECEDING) AS mean_volume,
        stddev_samp(v) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                             ROWS BETWEEN 60 PRECEDING AND 1 PRECEDING) AS stddev_volume
    FROM traded
),
scored AS (
    SELECT
        symbol, trade_date, volume, n_prior, mean_volume, stddev_volume,
        (v - mean_volume) / NULLIF(stddev_volume, 0) AS z
    FROM stats
    WHERE n_prior >= 20
      AND trade_date >= CAST(:from AS DATE)
)
SELECT
    symbol,
    trade_date,
    volume,
    CAST(n_prior AS BIGINT) AS n_prior,
    mean_volume,
    stddev_volume,
    z
FROM scored
WHERE abs(z) >= 3
ORDER BY symbol ASC NULLS LAST, trade_date ASC NULLS LAST
