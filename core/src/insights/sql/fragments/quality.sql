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
records AS (
    -- Every record, in the insights' de-duplication order: per symbol and day the kept one
    -- (latest ts, then kafka_timestamp, partition, offset) first. `differs` marks a record
    -- whose values are not those of the record before it for the same bar: the same `ts`,
    -- which is the day for daily bars and the minute for intraday ones, whose day holds
    -- hundreds of different bars that restate nothing. (Each IS DISTINCT FROM is in
    -- parentheses: DataFusion's parser binds it looser than OR.)
    SELECT
        symbol, trade_date, close, volume, source, line, kafka_offset, kafka_timestamp,
        ts, kafka_partition, prev_ts, next_ts,
        CASE
            WHEN prev_ts = ts
             AND ((open IS DISTINCT FROM prev_open) OR (high IS DISTINCT FROM prev_high)
                  OR (low IS DISTINCT FROM prev_low) OR (close IS DISTINCT FROM prev_close)
                  OR (adj_close IS DISTINCT FROM prev_adj_close)
                  OR (volume IS DISTINCT FROM prev_volume))
            THEN 1 ELSE 0
        END AS differs
    FROM (
        SELECT
            symbol, trade_date, open, high, low, close, adj_close, volume, source, line,
            kafka_offset, kafka_timestamp, ts, kafka_partition,
            LAG(ts) OVER (
                PARTITION BY symbol
                ORDER BY trade_date ASC NULLS LAST, ts DESC NULLS LAST,
                         kafka_timestamp DESC NULLS LAST, kafka_partition DESC NULLS LAST,
                         kafka_offset DESC NULLS LAST
            ) AS prev_ts,
            LEAD(ts) OVER (
                PARTITION BY symbol
                ORDER BY trade_date ASC NULLS LAST, ts DESC NULLS LAST,
                         kafka_timestamp DESC NULLS LAST, kafka_partition DESC NULLS LAST,
                         kafka_offset DESC NULLS LAST
            ) AS next_ts,
            LAG(open) OVER (
                PARTITION BY symbol
                ORDER BY trade_date ASC NULLS LAST, ts DESC NULLS LAST,
                         kafka_timestamp DESC NULLS LAST, kafka_partition DESC NULLS LAST,
                         kafka_offset DESC NULLS LAST
            ) AS prev_open,
            LAG(high) OVER (
                PARTITION BY symbol
                ORDER BY trade_date ASC NULLS LAST, ts DESC NULLS LAST,
                         kafka_timestamp DESC NULLS LAST, kafka_partition DESC NULLS LAST,
                         kafka_offset DESC NULLS LAST
            ) AS prev_high,
            LAG(low) OVER (
                PARTITION BY symbol
                ORDER BY trade_date ASC NULLS LAST, ts DESC NULLS LAST,
                         kafka_timestamp DESC NULLS LAST, kafka_partition DESC NULLS LAST,
                         kafka_offset DESC NULLS LAST
            ) AS prev_low,
            LAG(close) OVER (
                PARTITION BY symbol
                ORDER BY trade_date ASC NULLS LAST, ts DESC NULLS LAST,
                         kafka_timestamp DESC NULLS LAST, kafka_partition DESC NULLS LAST,
                         kafka_offset DESC NULLS LAST
            ) AS prev_close,
            LAG(adj_close) OVER (
                PARTITION BY symbol
                ORDER BY trade_date ASC NULLS LAST, ts DESC NULLS LAST,
                         kafka_timestamp DESC NULLS LAST, kafka_partition DESC NULLS LAST,
                         kafka_offset DESC NULLS LAST
            ) AS prev_adj_close,
            LAG(volume) OVER (
                PARTITION BY symbol
                ORDER BY trade_date ASC NULLS LAST, ts DESC NULLS LAST,
                         kafka_timestamp DESC NULLS LAST, kafka_partition DESC NULLS LAST,
                         kafka_offset DESC NULLS LAST
            ) AS prev_volume
        FROM bars
        WHERE year BETWEEN :year_from AND :year_to
          AND trade_date >= CAST(:from AS DATE)
          AND trade_date <= CAST(:to AS DATE)
          AND :symbol_filter
    ) AS ordered
),
restated AS (
    -- Bars (days, or minutes of intraday bars) received more than once whose versions
    -- differ (a replayed identical CSV is not a restatement), every version, numbered 1 for
    -- the one the insights keep.
    SELECT
        symbol, trade_date, close, volume, source, line, kafka_offset, kafka_timestamp,
        version,
        DENSE_RANK() OVER (ORDER BY ts DESC NULLS LAST, symbol ASC NULLS LAST) AS rn
    FROM (
        SELECT
            symbol, trade_date, ts, close, volume, source, line, kafka_offset, kafka_timestamp,
            version,
            max(differs) OVER (PARTITION BY symbol, ts ORDER BY version ASC NULLS LAST
                               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS conflicting
        FROM (
            SELECT
                symbol, trade_date, ts, close, volume, source, line, kafka_offset,
                kafka_timestamp, differs,
                ROW_NUMBER() OVER (
                    PARTITION BY symbol, ts
                    ORDER BY kafka_timestamp DESC NULLS LAST,
                             kafka_partition DESC NULLS LAST, kafka_offset DESC NULLS LAST
                ) AS version
            FROM records
            WHERE prev_ts = ts OR next_ts = ts
        ) AS versions
    ) AS days
    WHERE conflicting = 1
),
base AS (
    -- @include: base
),
steps AS (
    -- Each kept bar with its log return and whether it starts a new run of equal closes
    -- (a bar without positive volume is in no run).
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
    SELECT
        symbol, trade_date, close, volume, log_return,
        sum(starts_run) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_id
    FROM steps
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
