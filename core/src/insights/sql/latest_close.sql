-- name: latest_close
-- title: Latest close
-- description: The last close of each symbol in the report window, with the close of the previous trading day and the change over that day.
-- columns: symbol, trade_date, close, prev_date, prev_close, day_change, day_change_pct
WITH base AS (
    -- @include: base
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
    -- The symbol's last day as a whole-symbol maximum rather than a ranking by date
    -- descending: the rows are already in date order, and a ranking sorts them all again.
    -- `base` has one row per (symbol, trade_date), so one row matches.
    SELECT
        symbol, trade_date, close, prev_date, prev_close,
        max(trade_date) OVER (PARTITION BY symbol) AS last_date
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
WHERE trade_date = last_date
ORDER BY symbol ASC NULLS LAST
