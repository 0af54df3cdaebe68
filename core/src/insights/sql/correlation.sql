-- name: correlation
-- title: Return correlation
-- description: Pearson correlation of daily log returns over the report window (at least 20 common trading days). Benchmark rows: each symbol against the benchmark, the named index or else the equal-weight mean of the report's symbols that day. Most and least rows: the N most and least correlated pairs among the symbols most and least correlated to the benchmark (every symbol when there are few). Pair rows, instead of most and least, for a named list of symbols: every pair.
-- columns: kind, rank, symbol_a, symbol_b, n_days, correlation
--
-- Method. Every pair of 5,000 symbols is 12.5 million pairs and, over a year, three billion
-- joined returns: neither a report nor a query anyone should pay for. So:
-- 1. Each symbol against one benchmark series: the returns of the symbol `:benchmark` (read
--    apart from `base`, so a report of named symbols still has it; the benchmark itself is
--    then left out of every other row), or, when it is empty, the equal-weight mean of the
--    day's returns of the report's symbols (each symbol included in its own mean). One row
--    per symbol, ranked from the most correlated.
-- 2. Pair statistics only among candidates: the `:pair_candidates` symbols most and the
--    `:pair_candidates` least correlated to the benchmark. Under a one-factor model,
--    corr(a, b) = rho_a * rho_b, so the most correlated pairs are two of the most (or two of
--    the least) correlated symbols and the least correlated pairs one of each; what the
--    screen can miss is correlation the benchmark does not explain (two stocks of one
--    sector). With 2 * `:pair_candidates` symbols or fewer every pair is a candidate and the
--    result is exact. The `:pairs` most and least correlated candidate pairs are reported.
-- 3. A named list of symbols (`:full_matrix` = 1, at most 50 symbols, Params::new) reports
--    every pair of it instead of the most and least.
-- Ranks are 1 for the most correlated (benchmark, most, pair) or the least (least); ties go
-- by symbol.
--
-- Plan. Neither DataFusion nor Athena (Trino) materialises a CTE: each reference to one is
-- another scan of the lake and another pass of every window over it (DuckDB materialises
-- them). So the per-row work (de-duplication, returns, the benchmark, each symbol's
-- correlation to it, the ranking) is referenced exactly twice, by the two sides of one
-- self-join, and every output row comes out of that join:
-- - Pair candidates join on the day, so each pair of them meets on every common day.
-- - Every other symbol joins only itself (its key also holds its rank), and every symbol's
--   own pair is paired with the benchmark's return, not its own: that group's correlation
--   is the symbol's correlation to the benchmark, computed as before.
-- The join key is one integer from a dense range (a day number, plus the rank times the
-- window's span in days for symbols that pair only with themselves), which DataFusion looks
-- up in an array rather than a hash table. The markers stand in WHERE clauses only (an
-- Athena limit), so the numbers the SELECT lists need (the candidates' count, the span) are
-- picked from a small table of digits by a WHERE.
WITH base AS (
    -- @include: base
),
bench_bars AS (
    -- The benchmark's bars, de-duplicated as `base` does; none when `:benchmark` is empty.
    SELECT symbol, trade_date, price
    FROM (
        SELECT
            symbol,
            trade_date,
            coalesce(adj_close, close) AS price,
            LAG(trade_date) OVER (
                ORDER BY trade_date ASC NULLS LAST, ts DESC NULLS LAST,
                         kafka_timestamp DESC NULLS LAST, kafka_partition DESC NULLS LAST,
                         kafka_offset DESC NULLS LAST
            ) AS prev_date
        FROM bars
        WHERE year BETWEEN :year_from AND :year_to
          AND trade_date >= CAST(:scan_from AS DATE)
          AND trade_date <= CAST(:to AS DATE)
          AND symbol = :benchmark
    ) AS ranked
    WHERE prev_date IS NULL OR prev_date <> trade_date
),
bench_mode AS (
    -- One row holding 1 when a benchmark symbol is named, 0 for the equal-weight mean.
    SELECT count(*) AS named FROM (SELECT 1 AS one) AS t WHERE :benchmark <> ''
),
bench_name AS (
    -- One row: the benchmark's symbol when the lake has its bars in the scan window.
    SELECT max(symbol) AS bench_symbol FROM bench_bars
),
returns AS (
    -- Each symbol's daily log return (the benchmark's apart, so that the other symbols keep
    -- the order `base` leaves them in).
    SELECT
        symbol,
        is_bench,
        trade_date,
        CASE WHEN prev_price > 0 AND price > 0 THEN ln(price / prev_price) END AS r
    FROM (
        SELECT
            symbol, 0 AS is_bench, trade_date, price,
            LAG(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS prev_price
        FROM base
        WHERE symbol <> :benchmark
        UNION ALL
        SELECT
            symbol, 1 AS is_bench, trade_date, price,
            LAG(price) OVER (ORDER BY trade_date ASC NULLS LAST) AS prev_price
        FROM bench_bars
    ) AS with_prev
),
in_window AS (
    -- `day_key`: a day number, year * 372 + month * 31 + day (one per date, and the dates of
    -- Y years span fewer than 372 * Y of them).
    SELECT
        symbol,
        is_bench,
        CAST(EXTRACT(YEAR FROM trade_date) AS BIGINT) * 372
            + CAST(EXTRACT(MONTH FROM trade_date) AS BIGINT) * 31
            + CAST(EXTRACT(DAY FROM trade_date) AS BIGINT) AS day_key,
        r
    FROM returns
    WHERE trade_date >= CAST(:from AS DATE)
      AND r IS NOT NULL
),
daily AS (
    -- Each symbol's return with the benchmark's that day (NULL when it has none).
    SELECT
        w.symbol, w.is_bench, w.day_key, w.r,
        CASE
            WHEN n.named = 1
            THEN max(CASE WHEN w.is_bench = 1 THEN w.r END) OVER (PARTITION BY w.day_key)
            ELSE avg(CASE WHEN w.is_bench = 0 THEN w.r END) OVER (PARTITION BY w.day_key)
        END AS rb
    FROM in_window AS w
    CROSS JOIN bench_mode AS n
),
scored AS (
    -- Each symbol's correlation to the benchmark on every row of it, for the ranking.
    SELECT
        symbol, day_key, r, rb,
        count(rb) OVER (PARTITION BY symbol) AS n_bench,
        stddev_samp(rb) OVER (PARTITION BY symbol) AS sd_rb,
        stddev_samp(CASE WHEN rb IS NOT NULL THEN r END) OVER (PARTITION BY symbol) AS sd_r,
        corr(CASE WHEN rb IS NOT NULL THEN r END, rb) OVER (PARTITION BY symbol) AS rho_raw
    FROM daily
    WHERE is_bench = 0
),
ranked AS (
    -- Ranks 1.. from the most (`rank_hi`) and the least (`rank_lo`) correlated; one per
    -- symbol, as symbols break ties.
    SELECT
        symbol, day_key, r, rb, rho,
        CAST(DENSE_RANK() OVER (ORDER BY rho DESC NULLS LAST, symbol ASC NULLS LAST) AS BIGINT) AS rank_hi,
        CAST(DENSE_RANK() OVER (ORDER BY rho ASC NULLS LAST, symbol ASC NULLS LAST) AS BIGINT) AS rank_lo
    FROM (
        SELECT
            symbol, day_key, r, rb,
            CASE WHEN n_bench >= 20 AND sd_r > 0 AND sd_rb > 0 THEN rho_raw END AS rho
        FROM scored
    ) AS guarded
),
digits AS (
    -- 0 to 9, for the numbers below.
    SELECT d FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS t(d)
),
settings AS (
    -- One row: the number of pair candidates at each end (`:pair_candidates`, up to 9,999),
    -- 1 for a full matrix, and the span of day numbers of the scanned years (`:year_from` to
    -- `:year_to`, up to 999 years), more than the range of `day_key`.
    SELECT
        max(d1.d * 1000 + d2.d * 100 + d3.d * 10 + d4.d) AS candidates,
        max(f.full_matrix) AS full_matrix,
        max(y.span) AS span
    FROM digits AS d1
    CROSS JOIN digits AS d2
    CROSS JOIN digits AS d3
    CROSS JOIN digits AS d4
    CROSS JOIN (
        SELECT count(*) AS full_matrix FROM (SELECT 1 AS one) AS t
        WHERE CAST(:full_matrix AS INTEGER) = 1
    ) AS f
    CROSS JOIN (
        SELECT max(e1.d * 100 + e2.d * 10 + e3.d) * 372 AS span
        FROM digits AS e1
        CROSS JOIN digits AS e2
        CROSS JOIN digits AS e3
        WHERE e1.d * 100 + e2.d * 10 + e3.d
              <= CAST(:year_to AS BIGINT) - CAST(:year_from AS BIGINT) + 1
    ) AS y
    WHERE d1.d * 1000 + d2.d * 100 + d3.d * 10 + d4.d <= CAST(:pair_candidates AS BIGINT)
),
keyed AS (
    -- The join key: the day for a pair candidate (every symbol for a full matrix), the day
    -- and the symbol's rank for any other symbol, which then meets only itself.
    SELECT
        g.symbol, g.r, g.rb, g.rank_hi,
        CAST(CASE
            WHEN s.full_matrix = 1
                 OR (g.rho IS NOT NULL AND (g.rank_hi <= s.candidates OR g.rank_lo <= s.candidates))
            THEN g.day_key
            ELSE g.day_key + g.rank_hi * s.span
        END AS BIGINT) AS join_key
    FROM ranked AS g
    CROSS JOIN settings AS s
),
pairs AS (
    -- One group per pair of candidates (symbol_x < symbol_y) and one per symbol
    -- (symbol_x = symbol_y), whose y is the benchmark's return: its correlation is the
    -- symbol's to the benchmark, over the days the benchmark has a return.
    SELECT
        symbol_x,
        symbol_y,
        count(y) AS n_days,
        CASE
            WHEN count(y) >= 20 AND stddev_samp(x) > 0 AND stddev_samp(y) > 0 THEN corr(x, y)
        END AS correlation
    FROM (
        SELECT
            a.symbol AS symbol_x,
            b.symbol AS symbol_y,
            CASE WHEN a.rank_hi = b.rank_hi THEN b.rb ELSE b.r END AS y,
            CASE WHEN a.rank_hi <> b.rank_hi OR b.rb IS NOT NULL THEN a.r END AS x
        FROM keyed AS a
        JOIN keyed AS b
          ON b.join_key = a.join_key
         AND a.symbol <= b.symbol
    ) AS j
    GROUP BY symbol_x, symbol_y
),
pair_ranks AS (
    -- Pairs of at least 20 common days ranked among pairs, symbols among symbols.
    SELECT
        symbol_a, symbol_b, n_days, correlation, is_self,
        ROW_NUMBER() OVER (PARTITION BY is_self
                           ORDER BY correlation DESC NULLS LAST, symbol_a ASC NULLS LAST,
                                    symbol_b ASC NULLS LAST) AS rn_most,
        ROW_NUMBER() OVER (PARTITION BY is_self
                           ORDER BY correlation ASC NULLS LAST, symbol_a ASC NULLS LAST,
                                    symbol_b ASC NULLS LAST) AS rn_least
    FROM (
        SELECT
            CASE WHEN symbol_x <= symbol_y THEN symbol_x ELSE symbol_y END AS symbol_a,
            CASE WHEN symbol_x <= symbol_y THEN symbol_y ELSE symbol_x END AS symbol_b,
            n_days, correlation,
            CASE WHEN symbol_x = symbol_y THEN 1 ELSE 0 END AS is_self
        FROM pairs
    ) AS p
    WHERE is_self = 1 OR n_days >= 20
),
out_rows AS (
    SELECT
        k.part,
        k.kind,
        CASE WHEN k.part = 3 THEN p.rn_least ELSE p.rn_most END
            AS rn,
        p.symbol_a,
        CASE
            WHEN k.part > 1 THEN p.symbol_b
            WHEN n.named = 1 THEN CASE WHEN p.n_days > 0 THEN b.bench_symbol END
            ELSE 'equal-weight mean'
        END AS symbol_b,
        p.n_days,
        p.correlation
    FROM pair_ranks AS p
    CROSS JOIN bench_mode AS n
    CROSS JOIN bench_name AS b
    CROSS JOIN (VALUES (1, 'benchmark'), (2, 'most'), (3, 'least'), (4, 'pair')) AS k(part, kind)
    WHERE (k.part = 1 AND p.is_self = 1)
       OR (k.part = 2 AND p.is_self = 0 AND p.rn_most <= CAST(:pairs AS BIGINT)
           AND CAST(:full_matrix AS INTEGER) = 0)
       OR (k.part = 3 AND p.is_self = 0 AND p.rn_least <= CAST(:pairs AS BIGINT)
           AND CAST(:full_matrix AS INTEGER) = 0)
       OR (k.part = 4 AND p.is_self = 0 AND CAST(:full_matrix AS INTEGER) = 1)
)
SELECT
    kind,
    CAST(rn AS BIGINT) AS rank,
    symbol_a,
    symbol_b,
    CAST(n_days AS BIGINT) AS n_days,
    correlation
FROM out_rows
ORDER BY part ASC NULLS LAST, rn ASC NULLS LAST
