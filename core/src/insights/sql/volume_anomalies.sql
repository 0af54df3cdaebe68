-- name: volume_anomalies
-- title: Volume anomalies
-- description: Days in the report window whose volume lies three or more standard deviations from the mean of the previous 60 trading days of the symbol.
-- columns: symbol, trade_date, volume, n_prior, mean_volume, stddev_volume, z
WITH base AS (
    -- @include: base
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
