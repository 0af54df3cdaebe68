-- name: max_drawdown
-- title: Maximum drawdown
-- description: The largest fall of each symbol from a running peak within the report window, with the peak, the trough and the day the peak was regained.
-- columns: symbol, max_drawdown, peak_date, peak_price, trough_date, trough_price, recovery_date
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
in_window AS (
    SELECT
        symbol,
        trade_date,
        price,
        max(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_max
    FROM base
    WHERE trade_date >= CAST(:from AS DATE)
),
trough AS (
    -- The deepest drawdown, the earliest day on a tie.
    SELECT symbol, trade_date AS trough_date, price AS trough_price, running_max AS peak_price,
           drawdown AS max_drawdown
    FROM (
        SELECT
            symbol, trade_date, price, running_max, drawdown,
            ROW_NUMBER() OVER (PARTITION BY symbol
                               ORDER BY drawdown ASC NULLS LAST, trade_date ASC NULLS LAST) AS rn
        FROM (
            SELECT symbol, trade_date, price, running_max,
                   price / NULLIF(running_max, 0) - 1 AS drawdown
            FROM in_window
        ) AS drawdowns
    ) AS ranked_drawdowns
    WHERE rn = 1
)
SELECT
    t.symbol,
    t.max_drawdown,
    -- The peak is the last day at the peak price before the trough. With no drawdown at
    -- all, peak and trough are the first day of the window and there is nothing to recover.
    max(CASE WHEN w.trade_date <= t.trough_date AND w.price = t.peak_price
             THEN w.trade_date END) AS peak_date,
    t.peak_price,
    t.trough_date,
    t.trough_price,
    min(CASE WHEN t.max_drawdown < 0 AND w.trade_date > t.trough_date AND w.price >= t.peak_price
             THEN w.trade_date END) AS recovery_date
FROM trough AS t
JOIN in_window AS w ON w.symbol = t.symbol
GROUP BY t.symbol, t.max_drawdown, t.peak_price, t.trough_date, t.trough_price
ORDER BY t.symbol ASC NULLS LAST
