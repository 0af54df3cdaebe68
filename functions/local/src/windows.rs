//! Window functions over fully sorted input, evaluated a partition at a time.
//!
//! DataFusion plans every window whose functions need bounded memory (`LAG`, `ROW_NUMBER`,
//! trailing frames) as a `BoundedWindowAggExec`, which streams: it evaluates row by row,
//! each value through a `ScalarValue`, so that it could run over an endless input. The
//! insight texts never stream: each window sits on a sort (or a scan the sort came from)
//! that has already buffered the whole input. There the streaming operator is the slow
//! one: the de-duplication `LAG` that every insight's `base` runs over two years of bars
//! took 41 ms of compute in it against 10 ms in `WindowAggExec`, which evaluates each
//! window partition's column at once (BENCHMARKS.md).
//!
//! [`WholeWindows`] is a physical optimizer rule, run after DataFusion's own, that swaps
//! each `BoundedWindowAggExec` over input sorted on all its keys (`InputOrderMode::Sorted`)
//! for a `WindowAggExec` with the same window expressions and the same input. Both
//! require the same distribution and ordering and give the same schema and order; the
//! only cost is that the window's input is held in memory once more while it runs.
//! Windows over partly sorted or unsorted input (which a sort would have had to fix) are
//! left as they are.
//!
//! `WindowAggExec` still evaluates an aggregate over a frame that moves with the row (a
//! trailing average, a running sum) row by row, so the rule also puts each such aggregate
//! that [`frames`] knows in that module's hands, in both operators. A streaming window with
//! a framed aggregate `frames` does not know (a `RANGE` offset, `DISTINCT`) stays as it is.

use crate::frames;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::physical_expr::window::{SlidingAggregateWindowExpr, WindowExpr};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
use datafusion::physical_plan::{ExecutionPlan, InputOrderMode};
use std::sync::Arc;

/// The rule; see the module documentation.
#[derive(Debug, Default)]
pub struct WholeWindows;

impl PhysicalOptimizerRule for WholeWindows {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if let Some(bounded) = node.downcast_ref::<BoundedWindowAggExec>() {
                if bounded.input_order_mode != InputOrderMode::Sorted {
                    return Ok(Transformed::no(node));
                }
                // Every framed aggregate evaluated whole, or the node is left streaming:
                // the whole-partition operator would evaluate a sliding one row by row too.
                let schema = bounded.input().schema();
                let mut exprs = vec![];
                for e in bounded.window_expr() {
                    match frames::replace(e, &schema) {
                        Some(framed) => exprs.push(framed),
                        None if e.as_any().is::<SlidingAggregateWindowExpr>() => {
                            return Ok(Transformed::no(node));
                        }
                        None => exprs.push(Arc::clone(e)),
                    }
                }
                return whole(exprs, bounded.input(), bounded.partition_keys());
            }
            if let Some(planned) = node.downcast_ref::<WindowAggExec>() {
                // Planned whole already (another of its windows needs the whole partition):
                // its framed aggregates still run row by row.
                let schema = planned.input().schema();
                let mut replaced = false;
                let exprs = planned
                    .window_expr()
                    .iter()
                    .map(|e| {
                        frames::replace(e, &schema)
                            .inspect(|_| replaced = true)
                            .unwrap_or_else(|| Arc::clone(e))
                    })
                    .collect::<Vec<_>>();
                if replaced {
                    return whole(exprs, planned.input(), planned.partition_keys());
                }
            }
            Ok(Transformed::no(node))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "whole_windows"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `exprs` over `input` in a `WindowAggExec`. `partition_keys` (the replaced operator's) is
/// empty when the window may not be repartitioned: the same choice, carried over.
fn whole(
    exprs: Vec<Arc<dyn WindowExpr>>,
    input: &Arc<dyn ExecutionPlan>,
    partition_keys: Vec<Arc<dyn PhysicalExpr>>,
) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    let plan = WindowAggExec::try_new(exprs, Arc::clone(input), !partition_keys.is_empty())?;
    Ok(Transformed::yes(Arc::new(plan)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;
    use arrow_array::Array;
    use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use datafusion::arrow::compute::concat_batches;
    use datafusion::datasource::MemTable;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::{SessionConfig, SessionContext};

    /// 3,000 rows over 7 symbols, several batches per partition, days out of order and
    /// repeated (so the de-duplication `LAG` meets ties broken by a second key), some nulls.
    fn table() -> MemTable {
        let schema = Arc::new(Schema::new(vec![
            Field::new("symbol", DataType::Utf8, false),
            Field::new("day", DataType::Int64, false),
            Field::new("seq", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
        ]));
        let mut parts = vec![vec![], vec![]];
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        for b in 0..6 {
            let n = 500;
            let mut symbol = vec![];
            let (mut day, mut seq, mut x) = (vec![], vec![], vec![]);
            for i in 0..n {
                symbol.push(format!("S{}", next() % 7));
                day.push((next() % 400) as i64);
                seq.push((b * n + i) as i64);
                x.push((next() % 10 != 0).then(|| (next() % 10_000) as f64 / 7.0));
            }
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from(symbol)),
                    Arc::new(Int64Array::from(day)),
                    Arc::new(Int64Array::from(seq)),
                    Arc::new(Float64Array::from(x)),
                ],
            )
            .unwrap();
            parts[b % 2].push(batch);
        }
        MemTable::try_new(schema, parts).unwrap()
    }

    fn context(rule: bool) -> SessionContext {
        let mut builder = SessionStateBuilder::new()
            .with_config(SessionConfig::new().with_target_partitions(2))
            .with_default_features();
        if rule {
            builder = builder.with_physical_optimizer_rule(Arc::new(WholeWindows));
        }
        let ctx = SessionContext::new_with_state(builder.build());
        ctx.register_table("t", Arc::new(table())).unwrap();
        ctx
    }

    #[test]
    fn sorted_windows_run_whole_with_the_answers_of_the_streaming_operator() {
        // The window shapes of the insight texts: a de-duplication LAG over several keys,
        // row numbers both ways, a whole-partition maximum, a global rank, running and
        // trailing aggregates (evaluated by `frames`), and one frame `frames` does not know
        // (a RANGE offset), which keeps its window streaming.
        let sql = "SELECT symbol, day, seq, x,
                LAG(day) OVER (PARTITION BY symbol ORDER BY day ASC NULLS LAST, seq DESC NULLS LAST) AS prev_day,
                ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY day DESC NULLS LAST, seq ASC NULLS LAST) AS rn,
                sum(x) OVER (PARTITION BY symbol ORDER BY day ASC NULLS LAST, seq DESC NULLS LAST
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running,
                sum(seq) OVER (PARTITION BY symbol ORDER BY day ASC NULLS LAST, seq DESC NULLS LAST
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_int,
                max(x) OVER (PARTITION BY symbol ORDER BY day ASC NULLS LAST, seq DESC NULLS LAST
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_max,
                max(day) OVER (PARTITION BY symbol) AS last_day,
                DENSE_RANK() OVER (ORDER BY day DESC NULLS LAST, symbol ASC NULLS LAST) AS dr,
                avg(x) OVER (PARTITION BY symbol ORDER BY seq ASC NULLS LAST
                             ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS trailing,
                stddev_samp(x) OVER (PARTITION BY symbol ORDER BY seq ASC NULLS LAST
                                     ROWS BETWEEN 60 PRECEDING AND 1 PRECEDING) AS deviation,
                count(x) OVER (PARTITION BY symbol ORDER BY seq ASC NULLS LAST
                               ROWS BETWEEN 3 PRECEDING AND 2 FOLLOWING) AS around,
                min(day) OVER (PARTITION BY symbol ORDER BY seq ASC NULLS LAST
                               ROWS BETWEEN 5 PRECEDING AND 1 PRECEDING) AS low_day,
                sum(x) OVER (PARTITION BY symbol ORDER BY day DESC NULLS LAST, seq ASC NULLS LAST
                             ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS shared,
                min(x) OVER (PARTITION BY symbol ORDER BY day DESC NULLS LAST, seq ASC NULLS LAST
                             ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS low_after,
                max(x) OVER (PARTITION BY symbol ORDER BY day DESC NULLS LAST, seq ASC NULLS LAST
                             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS top,
                avg(x) OVER (PARTITION BY symbol ORDER BY day ASC NULLS LAST
                             RANGE BETWEEN 5 PRECEDING AND CURRENT ROW) AS ranged
            FROM t
            ORDER BY seq";
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut answers = vec![];
        let mut plans = vec![];
        let mut physical = vec![];
        for rule in [false, true] {
            let df = rt.block_on(context(rule).sql(sql)).unwrap();
            let plan = rt.block_on(df.clone().create_physical_plan()).unwrap();
            plans.push(displayable(plan.as_ref()).indent(false).to_string());
            physical.push(plan);
            let batches = rt.block_on(df.collect()).unwrap();
            answers.push(concat_batches(&batches[0].schema(), &batches).unwrap());
        }
        let (before, after) = (&answers[0], &answers[1]);
        assert_eq!(before.num_rows(), 3_000, "every row, framed");
        assert_eq!(before.schema(), after.schema());
        for (c, field) in before.schema().fields().iter().enumerate() {
            let (b, a) = (before.column(c), after.column(c));
            if field.data_type() != &DataType::Float64 {
                assert!(
                    b.as_ref() == a.as_ref(),
                    "{}: the same, exactly",
                    field.name()
                );
                continue;
            }
            // Floats to rounding, of the column's largest magnitude. DataFusion evaluates the
            // running sum reversed, to share the row numbers' sort: a frame from the row to
            // the partition's end, whose total it takes rows away from, uncompensated (the
            // first row of one partition here is off by 1e-10); `frames` compensates.
            let (b, a) = (
                b.as_primitive::<Float64Type>(),
                a.as_primitive::<Float64Type>(),
            );
            assert_eq!(b.nulls(), a.nulls(), "{}", field.name());
            let scale = b.iter().flatten().fold(1.0f64, |m, x| m.max(x.abs()));
            let mut nonzero = 0;
            for (x, y) in b.iter().zip(a.iter()) {
                if let (Some(x), Some(y)) = (x, y) {
                    nonzero += usize::from(x != 0.0);
                    assert!(
                        (x - y).abs() <= 1e-12 * scale,
                        "{}: {x} vs {y}",
                        field.name()
                    );
                }
            }
            assert!(nonzero > 2_000, "{}: values to compare", field.name());
        }
        let count = |plan: &str, op: &str| {
            plan.lines()
                .filter(|l| l.trim_start().starts_with(op))
                .count()
        };
        let bounded = |plan: &str| -> Vec<String> {
            plan.lines()
                .filter(|l| l.trim_start().starts_with("BoundedWindowAggExec"))
                .map(str::to_string)
                .collect()
        };
        assert!(bounded(&plans[0]).len() >= 3, "{}", plans[0]);
        // With the rule, only the RANGE frame's window streams.
        let left = bounded(&plans[1]);
        assert_eq!(left.len(), 1, "{}", plans[1]);
        assert!(
            left[0].contains("RANGE BETWEEN 5 PRECEDING"),
            "{}",
            plans[1]
        );
        assert!(!left[0].contains("ROWS BETWEEN"), "{}", plans[1]);
        assert!(count(&plans[1], "WindowAggExec") >= 3, "{}", plans[1]);
        // The nine aggregates over ROWS frames with a bounded end are `frames`', the two in
        // the operator that the whole-partition `max` made `WindowAggExec` from the start
        // included; the whole-partition ones and the RANGE one are not.
        assert_eq!(framed(&physical[1]), 9, "{}", plans[1]);
        assert_eq!(framed(&physical[0]), 0);
    }

    /// Window expressions of `plan` that `frames` evaluates.
    fn framed(plan: &Arc<dyn ExecutionPlan>) -> usize {
        let here = plan
            .downcast_ref::<WindowAggExec>()
            .map(|w| w.window_expr())
            .or_else(|| {
                plan.downcast_ref::<BoundedWindowAggExec>()
                    .map(|w| w.window_expr())
            })
            .map_or(0, |exprs| {
                exprs.iter().filter(|e| frames::is_framed(e)).count()
            });
        here + plan.children().into_iter().map(framed).sum::<usize>()
    }
}
