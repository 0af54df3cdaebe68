-- name: top_movers
-- title: Top movers
-- description: The five symbols that gained most and the five that lost most between their first and last trading day in the report window.
-- columns: side, rank, symbol, first_date, first_price, last_date, last_price, ret
WITH base AS (
    -- @include: base
),
in_window AS (
    SELECT
        symbol, trade_date, price,
        ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS rn_asc,
        ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date DESC NULLS LAST) AS rn_desc
    FROM base
    WHERE trade_date >= CAST(:from AS DATE)
),
ends AS (
    SELECT
        symbol,
        max(CASE WHEN rn_asc = 1 THEN trade_date END) AS first_date,
        max(CASE WHEN rn_asc = 1 THEN price END) AS first_price,
        max(CASE WHEN rn_desc = 1 THEN trade_date END) AS last_date,
        max(CASE WHEN rn_desc = 1 THEN price END) AS last_price
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
