-- name: quality_issues
-- title: Data quality issues
-- description: What in the report window's data deserves a second look, listed for review and never dropped: missing trading days (days at least half of the lake's symbols traded, between a symbol's first and last bar, without a bar of it), stale runs (the same close on five or more of a symbol's consecutive days with volume; of intraday bars, each day's last bar counts), restatements (one bar, a day or for intraday bars a minute, received with different values: every version, the one kept first) and implausible moves (a daily log return beyond ±0.25, from one day's last bar to the next's). At most 25 of each kind, the most telling first; kind_total counts them all.
-- columns: kind, rank, kind_total, symbol, trade_date, end_date, n_bars, close, volume, log_return, version, status, source, line, kafka_offset, arrived_at
WITH
-- @include: quality
restated_total AS (
    SELECT
        symbol, trade_date, close, volume, source, line, kafka_offset, kafka_timestamp,
        version, rn,
        max(rn) OVER () AS kind_total
    FROM restated
)
SELECT
    kind,
    CAST(rn AS BIGINT) AS rank,
    CAST(kind_total AS BIGINT) AS kind_total,
    symbol, trade_date, end_date,
    CAST(n_bars AS BIGINT) AS n_bars,
    close, volume, log_return,
    CAST(version AS BIGINT) AS version,
    status, source, line, kafka_offset, arrived_at
FROM (
    SELECT
        'missing_day' AS kind, rn, kind_total, symbol, trade_date,
        CAST(NULL AS DATE) AS end_date, n_traded AS n_bars,
        CAST(NULL AS DOUBLE) AS close, CAST(NULL AS BIGINT) AS volume,
        CAST(NULL AS DOUBLE) AS log_return, CAST(NULL AS BIGINT) AS version,
        CAST(NULL AS VARCHAR) AS status, CAST(NULL AS VARCHAR) AS source,
        CAST(NULL AS BIGINT) AS line, CAST(NULL AS BIGINT) AS kafka_offset,
        CAST(NULL AS TIMESTAMP) AS arrived_at
    FROM missing
    WHERE rn <= CAST(:quality_rows AS BIGINT)
    UNION ALL
    SELECT
        'stale_run' AS kind, rn, kind_total, symbol, first_date AS trade_date,
        last_date AS end_date, n_bars,
        close, CAST(NULL AS BIGINT) AS volume,
        CAST(NULL AS DOUBLE) AS log_return, CAST(NULL AS BIGINT) AS version,
        CAST(NULL AS VARCHAR) AS status, CAST(NULL AS VARCHAR) AS source,
        CAST(NULL AS BIGINT) AS line, CAST(NULL AS BIGINT) AS kafka_offset,
        CAST(NULL AS TIMESTAMP) AS arrived_at
    FROM stale
    WHERE rn <= CAST(:quality_rows AS BIGINT)
    UNION ALL
    SELECT
        'restatement' AS kind, rn, kind_total, symbol, trade_date,
        CAST(NULL AS DATE) AS end_date, CAST(NULL AS BIGINT) AS n_bars,
        close, volume,
        CAST(NULL AS DOUBLE) AS log_return, version,
        CASE WHEN version = 1 THEN 'kept' ELSE 'superseded' END AS status, source,
        line, kafka_offset,
        kafka_timestamp AS arrived_at
    FROM restated_total
    WHERE rn <= CAST(:quality_rows AS BIGINT)
    UNION ALL
    SELECT
        'implausible_move' AS kind, rn, kind_total, symbol, trade_date,
        CAST(NULL AS DATE) AS end_date, CAST(NULL AS BIGINT) AS n_bars,
        close, volume,
        log_return, CAST(NULL AS BIGINT) AS version,
        CAST(NULL AS VARCHAR) AS status, CAST(NULL AS VARCHAR) AS source,
        CAST(NULL AS BIGINT) AS line, CAST(NULL AS BIGINT) AS kafka_offset,
        CAST(NULL AS TIMESTAMP) AS arrived_at
    FROM moves
    WHERE rn <= CAST(:quality_rows AS BIGINT)
) AS issues
ORDER BY kind ASC NULLS LAST, rank ASC NULLS LAST, version ASC NULLS LAST
