-- name: top_movers
-- title: Top movers
-- description: The five symbols that gained most and the five that lost most between their first and last trading day in the report window.
-- columns: side, rank, symbol, first_date, first_price, last_date, last_price, ret
WITH base AS (
    -- @include: base
),
in_window AS (
    -- Each symbol's first and last price in the window on every row of it, in the one date
    -- order `base` leaves its rows in: a ranking from the end would sort them all again.
    -- `base` has one row per (symbol, trade_date), so the order has no ties.
    SELECT
        symbol, trade_date,
        FIRST_VALUE(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            AS first_price,
        LAST_VALUE(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            AS last_price
    FROM base
    WHERE trade_date >= CAST(:from AS DATE)
),
ends AS (
    SELECT
        symbol,
        min(trade_date) AS first_date,
        max(first_price) AS first_price,
        max(trade_date) AS last_date,
        max(last_price) AS last_price
    FROM in_window
    GROUP BY symbol
),
moves AS (
    SELECT
        CASE WHEN ret > 0 THEN 'gainer' ELSE 'loser' END AS side,
        symbol, first_date, first_price, last_date, last_price, ret
    FROM (
        SELECT
            symbol, first_date, first_price, last_date, last_price,
            last_price / NULLIF(first_price, 0) - 1 AS ret
        FROM ends
        WHERE last_date > first_date
    ) AS returns
    WHERE ret <> 0
),
ranked AS (
    -- Gainers by return descending, losers ascending: both are by size of the move. One
    -- ranking over both sides, so `moves` is read once (neither Athena nor DataFusion
    -- materialises a CTE: a second reference is a second scan of the lake).
    SELECT
        side,
        ROW_NUMBER() OVER (PARTITION BY side
                           ORDER BY abs(ret) DESC NULLS LAST, symbol ASC NULLS LAST) AS rn,
        symbol, first_date, first_price, last_date, last_price, ret
    FROM moves
)
SELECT
    side,
    CAST(rn AS BIGINT) AS rank,
    symbol,
    first_date,
    first_price,
    last_date,
    last_price,
    ret
FROM ranked
WHERE rn <= 5
ORDER BY side ASC NULLS LAST, rn ASC NULLS LAST
