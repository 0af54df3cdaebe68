-- name: volatility
-- title: Volatility
-- description: The annualised volatility of each symbol, the sample standard deviation of its daily log returns in the report window times the square root of 252.
-- columns: symbol, n_returns, daily_vol, annual_vol
WITH base AS (
    -- @include: base
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
