-- name: volume_anomalies
-- title: Volume anomalies
-- description: Days in the report window whose volume (the sum of the day's bars) lies three or more standard deviations from the mean of the previous 60 trading days of the symbol. For a named list of symbols, every such day; for every symbol, the 100 furthest from normal (largest |z|, ties by symbol and day). n_anomalies counts them all.
-- columns: symbol, trade_date, volume, n_prior, mean_volume, stddev_volume, z, n_anomalies
--
-- Modes, as `moving_averages`: a named list of symbols (`:full_matrix` = 1, at most 50
-- symbols) keeps every anomaly; a report of every symbol keeps the 100 of largest |z|
-- (insights::ANOMALY_ROWS, a number in the text rather than one more marker), ranked over
-- the anomalies alone with a total order (|z|, then symbol and day) so that every engine
-- keeps the same rows.
WITH bar_volumes AS (
    -- Each bar's volume once: a bar is a (symbol, ts), the day for daily bars and the minute
    -- for intraday ones, and of a bar received several times the record `base` would keep
    -- (the latest kafka_timestamp, then partition and offset). Not `base` itself, which keeps
    -- one bar per day: on intraday bars that is the day's last minute, not its volume.
    SELECT symbol, trade_date, volume
    FROM (
        SELECT
            symbol,
            trade_date,
            ts,
            volume,
            LAG(ts) OVER (
                PARTITION BY symbol
                ORDER BY ts ASC NULLS LAST, kafka_timestamp DESC NULLS LAST,
                         kafka_partition DESC NULLS LAST, kafka_offset DESC NULLS LAST
            ) AS prev_ts
        FROM bars
        WHERE year BETWEEN :year_from AND :year_to
          AND trade_date >= CAST(:scan_from AS DATE)
          AND trade_date <= CAST(:to AS DATE)
          AND :symbol_filter
    ) AS ranked
    WHERE prev_ts IS NULL OR prev_ts <> ts
),
traded AS (
    -- Each symbol's volume per day, the sum of the day's bars (a daily bar's own volume).
    -- Days without a positive volume (missing or zero) neither count nor get scored.
    SELECT symbol, trade_date, volume, CAST(volume AS DOUBLE) AS v
    FROM (
        SELECT symbol, trade_date, CAST(sum(volume) AS BIGINT) AS volume
        FROM bar_volumes
        GROUP BY symbol, trade_date
    ) AS days
    WHERE volume > 0
),
numbered AS (
    -- Every row of `traded` has a volume, so the 60 prior rows hold min(row - 1, 60)
    -- volumes: a row number, not a third sliding aggregate.
    SELECT
        symbol, trade_date, volume, v,
        ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS rn,
        LEAD(trade_date, 60) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST)
            AS day_60_ahead
    FROM traded
),
stats AS (
    -- Only the days a scored day's 60 prior rows can reach: those whose 60th next day is in
    -- the window (or that have none). The sliding aggregates are evaluated row by row, and
    -- the scan's earlier days would cost them as much again for rows nobody reads. (The
    -- filter applies before the windows; the row numbers were taken before it.)
    SELECT
        symbol,
        trade_date,
        volume,
        v,
        least(CAST(rn AS BIGINT) - 1, 60) AS n_prior,
        avg(v) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                     ROWS BETWEEN 60 PRECEDING AND 1 PRECEDING) AS mean_volume,
        stddev_samp(v) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                             ROWS BETWEEN 60 PRECEDING AND 1 PRECEDING) AS stddev_volume
    FROM numbered
    WHERE day_60_ahead IS NULL
       OR day_60_ahead >= CAST(:from AS DATE)
),
scored AS (
    SELECT
        symbol, trade_date, volume, n_prior, mean_volume, stddev_volume,
        (v - mean_volume) / NULLIF(stddev_volume, 0) AS z
    FROM stats
    WHERE n_prior >= 20
      AND trade_date >= CAST(:from AS DATE)
),
ranked AS (
    -- The anomalies, ranked from the largest |z|, and counted.
    SELECT
        symbol, trade_date, volume, n_prior, mean_volume, stddev_volume, z,
        ROW_NUMBER() OVER (ORDER BY abs(z) DESC NULLS LAST, symbol ASC NULLS LAST,
                                    trade_date ASC NULLS LAST) AS rn,
        count(*) OVER () AS n_anomalies
    FROM scored
    WHERE abs(z) >= 3
)
SELECT
    symbol,
    trade_date,
    volume,
    CAST(n_prior AS BIGINT) AS n_prior,
    mean_volume,
    stddev_volume,
    z,
    CAST(n_anomalies AS BIGINT) AS n_anomalies
FROM ranked
WHERE CAST(:full_matrix AS INTEGER) = 1 OR rn <= 100
ORDER BY symbol ASC NULLS LAST, trade_date ASC NULLS LAST
