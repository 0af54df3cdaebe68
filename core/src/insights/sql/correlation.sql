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
-- by symbol. Symbols' rows are read once here and each pair's days joined on the day as an
-- integer (yyyymmdd), which DataFusion looks up in an array rather than a hash table.
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
prices AS (
    SELECT symbol, trade_date, price, 0 AS is_bench
    FROM base
    WHERE symbol <> :benchmark
    UNION ALL
    SELECT symbol, trade_date, price, 1 AS is_bench
    FROM bench_bars
),
returns AS (
    SELECT
        symbol,
        is_bench,
        trade_date,
        CASE WHEN prev_price > 0 AND price > 0 THEN ln(price / prev_price) END AS r
    FROM (
        SELECT
            symbol, is_bench, trade_date, price,
            LAG(price) OVER (PARTITION BY symbol ORDER BY trade_date ASC NULLS LAST) AS prev_price
        FROM prices
    ) AS with_prev
),
in_window AS (
    SELECT
        symbol,
        is_bench,
        CAST(EXTRACT(YEAR FROM trade_date) AS INTEGER) * 10000
            + CAST(EXTRACT(MONTH FROM trade_date) AS INTEGER) * 100
            + CAST(EXTRACT(DAY FROM trade_date) AS INTEGER) AS day_key,
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
        END AS rb,
        max(CASE WHEN w.is_bench = 1 THEN w.symbol END) OVER (PARTITION BY w.day_key)
            AS bench_symbol
    FROM in_window AS w
    CROSS JOIN bench_mode AS n
),
scored AS (
    -- Each symbol's correlation to the benchmark on every row of it (one pass over the
    -- rows, which the pairs below need again).
    SELECT
        symbol, day_key, r, rb, bench_symbol,
        count(rb) OVER (PARTITION BY symbol) AS n_bench,
        stddev_samp(rb) OVER (PARTITION BY symbol) AS sd_rb,
        stddev_samp(CASE WHEN rb IS NOT NULL THEN r END) OVER (PARTITION BY symbol) AS sd_r,
        corr(CASE WHEN rb IS NOT NULL THEN r END, rb) OVER (PARTITION BY symbol) AS rho_raw
    FROM daily
    WHERE is_bench = 0
),
ranked AS (
    SELECT
        symbol, day_key, r, rb, bench_symbol, n_bench, rho,
        DENSE_RANK() OVER (ORDER BY rho DESC NULLS LAST, symbol ASC NULLS LAST) AS rank_hi,
        DENSE_RANK() OVER (ORDER BY rho ASC NULLS LAST, symbol ASC NULLS LAST) AS rank_lo
    FROM (
        SELECT
            symbol, day_key, r, rb, bench_symbol, n_bench,
            CASE WHEN n_bench >= 20 AND sd_r > 0 AND sd_rb > 0 THEN rho_raw END AS rho
        FROM scored
    ) AS guarded
),
members AS (
    -- The returns of the pair candidates.
    SELECT symbol, day_key, r
    FROM ranked
    WHERE CAST(:full_matrix AS INTEGER) = 1
       OR (rho IS NOT NULL
           AND (rank_hi <= CAST(:pair_candidates AS BIGINT)
                OR rank_lo <= CAST(:pair_candidates AS BIGINT)))
),
pairs AS (
    SELECT
        a.symbol AS symbol_a,
        b.symbol AS symbol_b,
        count(*) AS n_days,
        CASE
            WHEN stddev_samp(a.r) > 0 AND stddev_samp(b.r) > 0 THEN corr(a.r, b.r)
        END AS correlation
    FROM members AS a
    JOIN members AS b
      ON b.day_key = a.day_key
     AND a.symbol < b.symbol
    GROUP BY a.symbol, b.symbol
    HAVING count(*) >= 20
),
pair_ranks AS (
    SELECT
        symbol_a, symbol_b, n_days, correlation,
        ROW_NUMBER() OVER (ORDER BY correlation DESC NULLS LAST, symbol_a ASC NULLS LAST,
                                    symbol_b ASC NULLS LAST) AS rn_most,
        ROW_NUMBER() OVER (ORDER BY correlation ASC NULLS LAST, symbol_a ASC NULLS LAST,
                                    symbol_b ASC NULLS LAST) AS rn_least
    FROM pairs
),
benchmark_rows AS (
    SELECT
        symbol,
        max(bench_symbol) AS bench_symbol,
        max(n_bench) AS n_days,
        max(rho) AS rho,
        min(rank_hi) AS rank_hi
    FROM ranked
    GROUP BY symbol
),
out_rows AS (
    SELECT
        1 AS part,
        'benchmark' AS kind,
        b.rank_hi AS rn,
        b.symbol AS symbol_a,
        CASE WHEN n.named = 1 THEN b.bench_symbol ELSE 'equal-weight mean' END AS symbol_b,
        b.n_days,
        b.rho AS correlation
    FROM benchmark_rows AS b
    CROSS JOIN bench_mode AS n
    UNION ALL
    SELECT 2 AS part, 'most' AS kind, rn_most AS rn, symbol_a, symbol_b, n_days, correlation
    FROM pair_ranks
    WHERE rn_most <= CAST(:pairs AS BIGINT)
      AND CAST(:full_matrix AS INTEGER) = 0
    UNION ALL
    SELECT 3 AS part, 'least' AS kind, rn_least AS rn, symbol_a, symbol_b, n_days, correlation
    FROM pair_ranks
    WHERE rn_least <= CAST(:pairs AS BIGINT)
      AND CAST(:full_matrix AS INTEGER) = 0
    UNION ALL
    SELECT 4 AS part, 'pair' AS kind, rn_most AS rn, symbol_a, symbol_b, n_days, correlation
    FROM pair_ranks
    WHERE CAST(:full_matrix AS INTEGER) = 1
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
