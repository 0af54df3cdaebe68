-- name: quality_issues
-- title: Data quality issues
-- description: What in the report window's data deserves a second look, listed for review and never dropped: missing trading days (days at least half of the lake's symbols traded, between a symbol's first and last bar, without a bar of it), stale runs (the same close on five or more of a symbol's consecutive days with volume; of intraday bars, each day's last bar counts), restatements (one bar, a day or for intraday bars the minute at bar_time, received with different values: every version, the one kept first) and implausible moves (a daily log return beyond ±0.25, from one day's last bar to the next's). bar_time is the restated bar's start as HH:MM (HH:MM:SS when it starts within a minute), empty for daily bars and for the other kinds, which are about days. At most 25 of each kind, the most telling first; kind_total counts them all.
-- columns: kind, rank, kind_total, symbol, trade_date, bar_time, end_date, n_bars, close, volume, log_return, version, status, source, line, kafka_offset, arrived_at
--
-- `bar_time` is text built from EXTRACT and `||`, not a formatted timestamp: each engine
-- formats a timestamp as text its own way, and these digits are the same on all three.
-- Null when the bar's `ts` is midnight, which is how the lake stores a daily bar (the
-- readers take a midnight time for a daily bar, and intraday bars start after midnight),
-- and for the other kinds, whose rows are days: their CTEs read `base`, one bar a day.
WITH
-- @include: quality
restated_total AS (
    SELECT
        symbol, trade_date, close, volume, source, line, kafka_offset, kafka_timestamp,
        version, rn,
        max(rn) OVER () AS kind_total,
        -- Two digits each without lpad, which DataFusion builds only with its unicode
        -- functions; seconds only when the bar starts within a minute.
        CASE WHEN hh + mi + ss > 0 THEN
            CASE WHEN hh < 10 THEN '0' ELSE '' END || CAST(hh AS VARCHAR)
            || CASE WHEN mi < 10 THEN ':0' ELSE ':' END || CAST(mi AS VARCHAR)
            || CASE
                   WHEN ss = 0 THEN ''
                   WHEN ss < 10 THEN ':0' || CAST(ss AS VARCHAR)
                   ELSE ':' || CAST(ss AS VARCHAR)
               END
        END AS bar_time
    FROM (
        -- Whole seconds: `floor`, as DataFusion's EXTRACT(SECOND) has returned the
        -- fraction too in some versions (Trino and DuckDB never do).
        SELECT
            symbol, trade_date, close, volume, source, line, kafka_offset, kafka_timestamp,
            version, rn,
            CAST(EXTRACT(HOUR FROM ts) AS BIGINT) AS hh,
            CAST(EXTRACT(MINUTE FROM ts) AS BIGINT) AS mi,
            CAST(floor(EXTRACT(SECOND FROM ts)) AS BIGINT) AS ss
        FROM restated
    ) AS clock
)
SELECT
    kind,
    CAST(rn AS BIGINT) AS rank,
    CAST(kind_total AS BIGINT) AS kind_total,
    symbol, trade_date, bar_time, end_date,
    CAST(n_bars AS BIGINT) AS n_bars,
    close, volume, log_return,
    CAST(version AS BIGINT) AS version,
    status, source, line, kafka_offset, arrived_at
FROM (
    SELECT
        'missing_day' AS kind, rn, kind_total, symbol, trade_date,
        CAST(NULL AS VARCHAR) AS bar_time, CAST(NULL AS DATE) AS end_date,
        n_traded AS n_bars,
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
        CAST(NULL AS VARCHAR) AS bar_time, last_date AS end_date, n_bars,
        close, CAST(NULL AS BIGINT) AS volume,
        CAST(NULL AS DOUBLE) AS log_return, CAST(NULL AS BIGINT) AS version,
        CAST(NULL AS VARCHAR) AS status, CAST(NULL AS VARCHAR) AS source,
        CAST(NULL AS BIGINT) AS line, CAST(NULL AS BIGINT) AS kafka_offset,
        CAST(NULL AS TIMESTAMP) AS arrived_at
    FROM stale
    WHERE rn <= CAST(:quality_rows AS BIGINT)
    UNION ALL
    SELECT
        'restatement' AS kind, rn, kind_total, symbol, trade_date, bar_time,
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
        CAST(NULL AS VARCHAR) AS bar_time, CAST(NULL AS DATE) AS end_date,
        CAST(NULL AS BIGINT) AS n_bars,
        close, volume,
        log_return, CAST(NULL AS BIGINT) AS version,
        CAST(NULL AS VARCHAR) AS status, CAST(NULL AS VARCHAR) AS source,
        CAST(NULL AS BIGINT) AS line, CAST(NULL AS BIGINT) AS kafka_offset,
        CAST(NULL AS TIMESTAMP) AS arrived_at
    FROM moves
    WHERE rn <= CAST(:quality_rows AS BIGINT)
) AS issues
ORDER BY kind ASC NULLS LAST, rank ASC NULLS LAST, version ASC NULLS LAST
