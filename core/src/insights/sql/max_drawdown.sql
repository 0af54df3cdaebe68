-- name: max_drawdown
-- title: Maximum drawdown
-- description: The largest fall of each symbol from a running peak within the report window, with the peak, the trough and the day the peak was regained.
-- columns: symbol, max_drawdown, peak_date, peak_price, trough_date, trough_price, recovery_date
WITH base AS (
    -- @include: base
),
-- Each step below reads the step before it once: no CTE is read twice, because neither Athena
-- (Trino) nor DataFusion materialises a CTE, and a second reference is a second scan of the
-- lake (billed by Athena per byte). Whole-symbol values are window aggregates instead.
in_window AS (
    SELECT
        symbol, trade_date, price, running_max,
        price / NULLIF(running_max, 0) - 1 AS drawdown
    FROM (
        SELECT
            symbol,
            trade_date,
            price,
            max(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_max
        FROM base
        WHERE trade_date >= CAST(:from AS DATE)
    ) AS running
),
deepest AS (
    SELECT
        symbol, trade_date, price, running_max, drawdown,
        min(drawdown) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS max_drawdown
    FROM in_window
),
trough AS (
    -- The deepest drawdown, the earliest day on a tie (the first day when no drawdown is
    -- defined).
    SELECT
        symbol, trade_date, price, running_max, max_drawdown,
        min(CASE WHEN drawdown = max_drawdown OR max_drawdown IS NULL THEN trade_date END) OVER (
            PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS trough_date
    FROM deepest
),
peak AS (
    -- The peak price is the running maximum on the trough's day.
    SELECT
        symbol, trade_date, price, max_drawdown, trough_date,
        max(CASE WHEN trade_date = trough_date THEN running_max END) OVER (
            PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS peak_price
    FROM trough
)
-- The peak is the last day at the peak price before the trough. With no drawdown at
-- all, peak and trough are the first day of the window and there is nothing to recover.
SELECT
    symbol,
    max_drawdown,
    max(CASE WHEN trade_date <= trough_date AND price = peak_price THEN trade_date END)
        AS peak_date,
    peak_price,
    trough_date,
    max(CASE WHEN trade_date = trough_date THEN price END) AS trough_price,
    min(CASE WHEN max_drawdown < 0 AND trade_date > trough_date AND price >= peak_price
             THEN trade_date END) AS recovery_date
FROM peak
GROUP BY symbol, max_drawdown, peak_price, trough_date
ORDER BY symbol ASC NULLS LAST
