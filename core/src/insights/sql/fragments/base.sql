-- fragment: base
-- The body of every insight's `base` CTE, one row per (symbol, trade_date) from the scan
-- window (:scan_from to :to, the report's symbols): an insight writes `WITH base AS (`, a
-- line `-- @include: base`, then `),` (mod.rs composes; these header lines are left out).
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
