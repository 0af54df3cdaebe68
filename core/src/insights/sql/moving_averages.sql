-- name: moving_averages
-- title: Moving averages
-- description: The price of each symbol with its 50- and 200-trading-day moving averages for every day of the report window, flagging golden and death crosses.
-- columns: symbol, trade_date, price, ma50, ma200, signal
WITH base AS (
    -- @include: base
),
averages AS (
    -- Trailing windows of trading days, NULL until the window is full.
    SELECT
        symbol,
        trade_date,
        price,
        CASE
            WHEN count(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                                    ROWS BETWEEN 49 PRECEDING AND CURRENT ROW) = 50
            THEN avg(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                                  ROWS BETWEEN 49 PRECEDING AND CURRENT ROW)
        END AS ma50,
        CASE
            WHEN count(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                                    ROWS BETWEEN 199 PRECEDING AND CURRENT ROW) = 200
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
)
SELECT
    symbol,
    trade_date,
    price,
    ma50,
    ma200,
    CASE
        WHEN prev_ma50 <= prev_ma200 AND ma50 > ma200 THEN 'golden_cross'
        WHEN prev_ma50 >= prev_ma200 AND ma50 < ma200 THEN 'death_cross'
    END AS signal
FROM with_prev
WHERE trade_date >= CAST(:from AS DATE)
ORDER BY symbol ASC NULLS LAST, trade_date ASC NULLS LAST
