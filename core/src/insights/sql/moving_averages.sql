-- name: moving_averages
-- title: Moving averages
-- description: The price of each symbol with its 50- and 200-trading-day moving averages, flagging golden and death crosses (signal). For a named list of symbols, every day of the report window; for every symbol, one row per symbol: its last day in the window, with the date and kind of its most recent cross in the window (last_cross_date, last_cross; empty when none), which daily rows carry too.
-- columns: symbol, trade_date, price, ma50, ma200, signal, last_cross_date, last_cross
--
-- Modes. A named list of symbols (`:full_matrix` = 1, at most 50 symbols, Params::new, the
-- same rule as the correlation's full matrix) gets each symbol's daily series, for charts;
-- a report of every symbol gets one row per symbol (5,000 rows for 5,000 symbols, not one
-- per symbol and day). Both come out of the same rows: the series mode keeps every day, the
-- summary mode only each symbol's last day (a window maximum per symbol, no sort beyond the
-- one the moving averages already need). The marker stands in the final WHERE (an Athena
-- limit).
WITH base AS (
    -- @include: base
),
averages AS (
    -- Trailing windows of trading days, NULL until the window is full. Every row has a
    -- price (`close` is required), so a window is full from the symbol's 50th (200th) row:
    -- a row number, where a sliding count would cost as much as the average itself.
    SELECT
        symbol,
        trade_date,
        price,
        CASE
            WHEN ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) >= 50
            THEN avg(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                                  ROWS BETWEEN 49 PRECEDING AND CURRENT ROW)
        END AS ma50,
        CASE
            WHEN ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) >= 200
            THEN avg(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                                  ROWS BETWEEN 199 PRECEDING AND CURRENT ROW)
        END AS ma200
    FROM base
),
with_prev AS (
    SELECT
        symbol, trade_date, price, ma50, ma200,
        LAG(ma50) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS prev_ma50,
        LAG(ma200) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS prev_ma200
    FROM averages
),
signals AS (
    -- The window's days, each with its cross (if any).
    SELECT
        symbol, trade_date, price, ma50, ma200,
        CASE
            WHEN prev_ma50 <= prev_ma200 AND ma50 > ma200 THEN 'golden_cross'
            WHEN prev_ma50 >= prev_ma200 AND ma50 < ma200 THEN 'death_cross'
        END AS signal
    FROM with_prev
    WHERE trade_date >= CAST(:from AS DATE)
),
last_days AS (
    -- Each symbol's last day in the window and the day of its latest cross in it.
    SELECT
        symbol, trade_date, price, ma50, ma200, signal,
        max(trade_date) OVER (PARTITION BY symbol) AS last_date,
        max(CASE WHEN signal IS NOT NULL THEN trade_date END) OVER (PARTITION BY symbol)
            AS last_cross_date
    FROM signals
),
crosses AS (
    -- The kind of that cross, on every row of the symbol.
    SELECT
        symbol, trade_date, price, ma50, ma200, signal, last_date, last_cross_date,
        max(CASE WHEN trade_date = last_cross_date THEN signal END) OVER (PARTITION BY symbol)
            AS last_cross
    FROM last_days
)
SELECT
    symbol,
    trade_date,
    price,
    ma50,
    ma200,
    signal,
    last_cross_date,
    last_cross
FROM crosses
WHERE CAST(:full_matrix AS INTEGER) = 1 OR trade_date = last_date
ORDER BY symbol ASC NULLS LAST, trade_date ASC NULLS LAST
