-- name: period_returns
-- title: Period returns
-- description: The return of each symbol over one month, three months, one year and the year to date, as of its last trading day in the report window.
-- columns: symbol, as_of, ret_1m, ret_3m, ret_1y, ret_ytd
WITH base AS (
    -- @include: base
),
-- Each step below reads the step before it once: no CTE is read twice, because neither Athena
-- (Trino) nor DataFusion materialises a CTE, and a second reference is a second scan of the
-- lake (billed by Athena per byte). Whole-symbol values are window aggregates instead.
with_as_of AS (
    -- as_of: the symbol's last trading day up to the window's end.
    SELECT
        symbol, trade_date, price,
        max(trade_date) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS as_of
    FROM base
),
anchors AS (
    -- Calendar look-backs: a month back from the 31st clamps to the last day of that month.
    SELECT
        symbol, trade_date, price, as_of,
        CAST(as_of - INTERVAL '1' MONTH AS DATE) AS anchor_1m,
        CAST(as_of - INTERVAL '3' MONTH AS DATE) AS anchor_3m,
        CAST(as_of - INTERVAL '1' YEAR AS DATE) AS anchor_1y,
        CAST(date_trunc('year', as_of) AS DATE) AS year_start,
        CAST(CAST(date_trunc('year', as_of) AS DATE) - INTERVAL '1' YEAR AS DATE) AS prev_year_start
    FROM with_as_of
),
anchor_dates AS (
    -- The last trading day on or before each anchor (NULL when the data starts later),
    -- for YTD the last day of the previous calendar year, else the first day of this one.
    SELECT
        symbol, trade_date, price, as_of,
        max(CASE WHEN trade_date <= anchor_1m THEN trade_date END) OVER (
            PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS date_1m,
        max(CASE WHEN trade_date <= anchor_3m THEN trade_date END) OVER (
            PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS date_3m,
        max(CASE WHEN trade_date <= anchor_1y THEN trade_date END) OVER (
            PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS date_1y,
        max(CASE WHEN trade_date < year_start AND trade_date >= prev_year_start
                 THEN trade_date END) OVER (
            PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS date_prev_year_end,
        min(CASE WHEN trade_date >= year_start THEN trade_date END) OVER (
            PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS date_year_first
    FROM anchors
),
prices AS (
    -- A symbol with no trading day in the window has no as_of in it and no row here.
    SELECT
        symbol,
        as_of,
        max(CASE WHEN trade_date = as_of THEN price END) AS price,
        max(CASE WHEN trade_date = date_1m THEN price END) AS price_1m,
        max(CASE WHEN trade_date = date_3m THEN price END) AS price_3m,
        max(CASE WHEN trade_date = date_1y THEN price END) AS price_1y,
        max(CASE WHEN trade_date = date_prev_year_end THEN price END) AS price_prev_year_end,
        max(CASE WHEN trade_date = date_year_first THEN price END) AS price_year_first
    FROM anchor_dates
    WHERE as_of >= CAST(:from AS DATE)
    GROUP BY symbol, as_of
)
SELECT
    symbol,
    as_of,
    price / NULLIF(price_1m, 0) - 1 AS ret_1m,
    price / NULLIF(price_3m, 0) - 1 AS ret_3m,
    price / NULLIF(price_1y, 0) - 1 AS ret_1y,
    price / NULLIF(coalesce(price_prev_year_end, price_year_first), 0) - 1 AS ret_ytd
FROM prices
ORDER BY symbol ASC NULLS LAST
