-- fragment: quality
-- The CTEs both data-quality insights build on, each followed by a comma: the lake's trading
-- calendar, the report's symbols' spans and missing days, restatements, the kept bars (`base`)
-- with their steps, stale runs and implausible moves. An insight writes `WITH`, a line
-- `-- @include: quality`, then its own CTEs (mod.rs composes; these header lines are left out).
lake_days AS (
    -- The days each symbol of the lake traded in the window, every symbol (the trading
    -- calendar is the lake's, whichever symbols the report names). A symbol's first day is
    -- numbered 1, so the calendar can count symbols without a second read.
    SELECT
        symbol,
        trade_date,
        ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS day_no
    FROM (
        SELECT symbol, trade_date
        FROM bars
        WHERE year BETWEEN :year_from AND :year_to
          AND trade_date >= CAST(:from AS DATE)
          AND trade_date <= CAST(:to AS DATE)
        GROUP BY symbol, trade_date
    ) AS days
),
calendar AS (
    -- Trading days: days on which at least the given share of the lake's symbols traded.
    SELECT trade_date, n_traded
    FROM (
        SELECT trade_date, count(*) AS n_traded, max(n_symbols) AS n_symbols
        FROM (
            SELECT trade_date, sum(CASE WHEN day_no = 1 THEN 1 ELSE 0 END) OVER () AS n_symbols
            FROM lake_days
        ) AS counted
        GROUP BY trade_date
    ) AS per_day
    WHERE CAST(n_traded AS DOUBLE) >= CAST(:trading_day_share AS DOUBLE) * n_symbols
),
spans AS (
    SELECT symbol, min(trade_date) AS first_date, max(trade_date) AS last_date,
           CAST(count(*) AS BIGINT) AS bars
    FROM lake_days
    WHERE :symbol_filter
    GROUP BY symbol
),
missing AS (
    SELECT
        e.symbol, e.trade_date, e.n_traded,
        ROW_NUMBER() OVER (ORDER BY e.trade_date DESC NULLS LAST, e.symbol ASC NULLS LAST) AS rn,
        count(*) OVER () AS kind_total
    FROM (
        SELECT s.symbol, c.trade_date, c.n_traded
        FROM spans AS s
        JOIN calendar AS c
          ON c.trade_date >= s.first_date
         AND c.trade_date <= s.last_date
    ) AS e
    LEFT JOIN lake_days AS l
      ON l.symbol = e.symbol
     AND l.trade_date = e.trade_date
    WHERE l.symbol IS NULL
),
rebars AS (
    -- Bars (days, or minutes of intraday bars: one `ts`) received more than once whose
    -- versions differ: some value is not the same in every version, a value null in some
    -- versions and not in others included. A replayed identical CSV is not a restatement.
    -- One grouping of the window's records by bar, not windows over every record in the
    -- de-duplication order: restatements are rare, and sorting every record with its
    -- provenance was the data-quality texts' largest cost.
    SELECT symbol, ts
    FROM bars
    WHERE year BETWEEN :year_from AND :year_to
      AND trade_date >= CAST(:from AS DATE)
      AND trade_date <= CAST(:to AS DATE)
      AND :symbol_filter
    GROUP BY symbol, ts
    HAVING count(*) > 1
       AND (min(open) <> max(open) OR (count(open) > 0 AND count(open) < count(*))
            OR min(high) <> max(high) OR (count(high) > 0 AND count(high) < count(*))
            OR min(low) <> max(low) OR (count(low) > 0 AND count(low) < count(*))
            OR min(close) <> max(close) OR (count(close) > 0 AND count(close) < count(*))
            OR min(adj_close) <> max(adj_close)
            OR (count(adj_close) > 0 AND count(adj_close) < count(*))
            OR min(volume) <> max(volume)
            OR (count(volume) > 0 AND count(volume) < count(*)))
),
restated AS (
    -- Every version of those bars, numbered 1 for the one the insights keep (the latest
    -- arrival, as in `base`), with the bar's `ts`: a day holds many intraday bars, and only
    -- its time says which of them was restated.
    SELECT
        symbol, trade_date, ts, close, volume, source, line, kafka_offset, kafka_timestamp,
        version,
        DENSE_RANK() OVER (ORDER BY ts DESC NULLS LAST, symbol ASC NULLS LAST) AS rn
    FROM (
        SELECT
            b.symbol, b.trade_date, b.ts, b.close, b.volume, b.source, b.line, b.kafka_offset,
            b.kafka_timestamp,
            ROW_NUMBER() OVER (
                PARTITION BY b.symbol, b.ts
                ORDER BY b.kafka_timestamp DESC NULLS LAST,
                         b.kafka_partition DESC NULLS LAST, b.kafka_offset DESC NULLS LAST
            ) AS version
        FROM bars AS b
        JOIN rebars AS r
          ON r.symbol = b.symbol
         AND r.ts = b.ts
        WHERE b.year BETWEEN :year_from AND :year_to
          AND b.trade_date >= CAST(:from AS DATE)
          AND b.trade_date <= CAST(:to AS DATE)
    ) AS versions
),
base AS (
    -- @include: base
),
steps AS (
    -- Each kept bar with its log return and whether it starts a new run of equal closes
    -- (a bar without positive volume is in no run). `base` keeps one bar a day, of intraday
    -- bars the day's last: stale runs and moves are of days, their close the day's close.
    SELECT
        symbol, trade_date, close, volume,
        CASE WHEN prev_price > 0 AND price > 0 THEN ln(price / prev_price) END AS log_return,
        CASE WHEN volume > 0 AND prev_volume > 0 AND close = prev_close THEN 0 ELSE 1 END
            AS starts_run
    FROM (
        SELECT
            symbol, trade_date, close, price, volume,
            LAG(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS prev_price,
            LAG(close) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS prev_close,
            LAG(volume) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS prev_volume
        FROM base
    ) AS with_prev
),
runs AS (
    -- Runs numbered over the window's bars only: `stale` counts the part of a run inside
    -- the window, which is a run of these bars all the same (`starts_run` still compares
    -- the first with the bar before the window), and the running sum, which DataFusion
    -- evaluates row by row, covers a year of bars instead of the whole scan.
    SELECT
        symbol, trade_date, close, volume, log_return,
        sum(starts_run) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_id
    FROM steps
    WHERE trade_date >= CAST(:from AS DATE)
),
stale AS (
    -- Runs of equal closes with volume, the part of each inside the window.
    SELECT
        symbol, first_date, last_date, n_bars, close,
        ROW_NUMBER() OVER (ORDER BY n_bars DESC NULLS LAST, last_date DESC NULLS LAST,
                                    symbol ASC NULLS LAST) AS rn,
        count(*) OVER () AS kind_total
    FROM (
        SELECT
            symbol, run_id,
            min(trade_date) AS first_date,
            max(trade_date) AS last_date,
            count(*) AS n_bars,
            max(close) AS close
        FROM runs
        WHERE volume > 0
          AND trade_date >= CAST(:from AS DATE)
        GROUP BY symbol, run_id
    ) AS grouped
    WHERE n_bars >= CAST(:stale_bars AS BIGINT)
),
moves AS (
    SELECT
        symbol, trade_date, close, volume, log_return,
        ROW_NUMBER() OVER (ORDER BY abs(log_return) DESC NULLS LAST, trade_date DESC NULLS LAST,
                                    symbol ASC NULLS LAST) AS rn,
        count(*) OVER () AS kind_total
    FROM steps
    WHERE trade_date >= CAST(:from AS DATE)
      AND abs(log_return) > CAST(:max_move AS DOUBLE)
),
