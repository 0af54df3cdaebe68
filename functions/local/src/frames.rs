//! Aggregates over row frames that move with the row, a whole window partition at a time:
//! `avg(price) OVER (… ROWS BETWEEN 49 PRECEDING AND CURRENT ROW)`, a trailing
//! `stddev_samp`, a running `sum` or `max`.
//!
//! DataFusion evaluates such a frame row by row: for each row it finds the frame, feeds the
//! rows that entered it to an accumulator, retracts those that left, and reads the result
//! out through a `ScalarValue`. That is a few hundred nanoseconds a row, and it was the
//! largest cost left in the "last year" suite: `moving_averages`' two trailing averages took
//! 288 ms of compute over 549K rows, `volume_anomalies`' trailing mean and deviation 169 ms
//! over 323K, the data-quality running sum 58 ms over 263K (BENCHMARKS.md).
//!
//! [`replace`] gives the rule in [`crate::windows`] an equivalent window expression whose
//! evaluator computes a partition's whole column in one pass over plain slices. It knows
//! `count`, `sum`, `avg`, `min`, `max`, `stddev`/`stddev_samp`, `stddev_pop`, `var`/
//! `var_samp` and `var_pop` over `ROWS` frames with at least one bounded end, on the types
//! the insight texts use; anything else (`DISTINCT`, `FILTER`, `RANGE` frames, decimals)
//! keeps DataFusion's own evaluation.
//!
//! The numbers: counts, integer sums, minima and maxima are exact. Floating-point sums are
//! compensated (Neumaier), so a sliding sum does not drift as values enter and leave; a
//! variance over a bounded frame is computed from the frame's own values in two passes
//! (the mean, then the squared deviations), and over a frame that only grows by Welford's
//! update. Both are at least as accurate as DataFusion's retracting accumulators; results
//! agree with them to rounding (the tests hold them to 1e-12, relative).

use datafusion::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, Float64Array, Int64Array, PrimitiveArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, FieldRef, Float64Type, Int64Type, SchemaRef,
};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::window_frame::{WindowFrame, WindowFrameBound, WindowFrameUnits};
use datafusion::logical_expr::{LimitEffect, PartitionEvaluator};
use datafusion::physical_expr::window::{
    PlainAggregateWindowExpr, SlidingAggregateWindowExpr, StandardWindowExpr,
    StandardWindowFunctionExpr, WindowExpr,
};
use datafusion::physical_expr::PhysicalExpr;
use std::any::Any;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::sync::Arc;

/// The widest bounded frame a variance is computed over directly (two passes over each
/// frame, so its cost is rows × width); wider ones keep DataFusion's evaluation.
const MAX_DIRECT_WIDTH: i64 = 4096;

/// Where a frame starts and ends, in rows from the current one (negative: before it);
/// `None` is the partition's edge (`UNBOUNDED PRECEDING` / `UNBOUNDED FOLLOWING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    /// The first row of the frame.
    pub start: Option<i64>,
    /// The last row of the frame.
    pub end: Option<i64>,
}

impl Rows {
    /// The `ROWS` frame of `frame`; `None` for `RANGE` and `GROUPS` frames.
    pub fn of(frame: &WindowFrame) -> Option<Rows> {
        if frame.units != WindowFrameUnits::Rows {
            return None;
        }
        // `Some(None)`: unbounded; `None`: not an offset this knows.
        let offset = |v: &ScalarValue, sign: i64| -> Option<Option<i64>> {
            match v {
                ScalarValue::UInt64(None) => Some(None),
                ScalarValue::UInt64(Some(n)) => i64::try_from(*n).ok().map(|n| Some(sign * n)),
                _ => None,
            }
        };
        let start = match &frame.start_bound {
            WindowFrameBound::Preceding(v) => offset(v, -1)?,
            WindowFrameBound::CurrentRow => Some(0),
            WindowFrameBound::Following(v) => Some(offset(v, 1)??),
        };
        let end = match &frame.end_bound {
            WindowFrameBound::Preceding(v) => Some(offset(v, -1)??),
            WindowFrameBound::CurrentRow => Some(0),
            WindowFrameBound::Following(v) => offset(v, 1)?,
        };
        Some(Rows { start, end })
    }

    /// Row `i`'s frame in a partition of `n` rows, as `lo..hi` (`lo == hi` when empty).
    /// Both ends only move forward as `i` grows, which every kernel relies on.
    fn range(self, i: usize, n: usize) -> (usize, usize) {
        // Saturating: an offset may be as large as SQL lets one write.
        let at = |o: i64| (i as i64).saturating_add(o).clamp(0, n as i64) as usize;
        let lo = self.start.map_or(0, at);
        let hi = self.end.map_or(n, |o| at(o.saturating_add(1)));
        (lo, hi.max(lo))
    }

    /// The frame's width in rows, when both ends are bounded.
    fn width(self) -> Option<i64> {
        Some(self.end?.saturating_sub(self.start?).saturating_add(1))
    }
}

/// The aggregates this module evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    /// A variance: `sample` divides by n - 1, `root` takes the square root (a deviation).
    Var {
        sample: bool,
        root: bool,
    },
}

impl Func {
    fn named(name: &str) -> Option<Func> {
        Some(match name {
            "count" => Func::Count,
            "sum" => Func::Sum,
            "avg" => Func::Avg,
            "min" => Func::Min,
            "max" => Func::Max,
            "stddev" | "stddev_samp" => Func::Var {
                sample: true,
                root: true,
            },
            "stddev_pop" => Func::Var {
                sample: false,
                root: true,
            },
            "var" | "var_samp" | "var_sample" => Func::Var {
                sample: true,
                root: false,
            },
            "var_pop" | "var_population" => Func::Var {
                sample: false,
                root: false,
            },
            _ => return None,
        })
    }

    /// Whether the kernels take this argument type to this result type (DataFusion's own
    /// result type, checked rather than assumed).
    fn takes(self, arg: &DataType, out: &DataType) -> bool {
        use DataType::{Date32, Float64, Int64};
        match self {
            Func::Count => *out == Int64,
            Func::Sum => matches!((arg, out), (Int64, Int64) | (Float64, Float64)),
            Func::Avg | Func::Var { .. } => *arg == Float64 && *out == Float64,
            Func::Min | Func::Max => arg == out && matches!(arg, Float64 | Int64 | Date32),
        }
    }
}

/// `expr` (an aggregate over a `ROWS` frame, one of whose ends is bounded, over an input of
/// `schema`) as a window expression this module evaluates; `None` when it is not one.
pub fn replace(expr: &Arc<dyn WindowExpr>, schema: &SchemaRef) -> Option<Arc<dyn WindowExpr>> {
    let any = expr.as_any();
    let aggregate = if let Some(e) = any.downcast_ref::<SlidingAggregateWindowExpr>() {
        e.get_aggregate_expr()
    } else if let Some(e) = any.downcast_ref::<PlainAggregateWindowExpr>() {
        e.get_aggregate_expr()
    } else {
        return None;
    };
    if aggregate.is_distinct() || aggregate.ignore_nulls() || !aggregate.order_bys().is_empty() {
        return None;
    }
    let rows = Rows::of(expr.get_window_frame())?;
    if rows.start.is_none() && rows.end.is_none() {
        // The whole partition: DataFusion already aggregates it once.
        return None;
    }
    let func = Func::named(aggregate.fun().name())?;
    let [arg] = aggregate.expressions().try_into().ok()?;
    let field = expr.field().ok()?;
    let arg_type = arg.data_type(schema).ok()?;
    if !func.takes(&arg_type, field.data_type()) {
        return None;
    }
    if matches!(func, Func::Var { .. }) && rows.width().is_some_and(|w| w > MAX_DIRECT_WIDTH) {
        return None;
    }
    // DataFusion (55) has no public accessor for an aggregate's FILTER clause; its Debug
    // form ends with the field. Anything else is refused, not guessed. Checked last: the
    // form spells out the whole expression, and most window expressions fail sooner.
    if !format!("{expr:?}").ends_with("filter: None }") {
        return None;
    }
    let framed = Framed {
        func,
        rows,
        arg,
        name: expr.name().to_string(),
        field,
    };
    Some(Arc::new(StandardWindowExpr::new(
        Arc::new(framed),
        expr.partition_by(),
        expr.order_by(),
        Arc::clone(expr.get_window_frame()),
    )))
}

/// Whether `expr` is one of this module's replacements.
pub fn is_framed(expr: &Arc<dyn WindowExpr>) -> bool {
    expr.as_any()
        .downcast_ref::<StandardWindowExpr>()
        .is_some_and(|e| e.get_standard_func_expr().as_any().is::<Framed>())
}

/// The replacement's function: evaluated a partition at a time, ignoring DataFusion's
/// frame machinery (it carries its own [`Rows`]).
#[derive(Debug)]
struct Framed {
    func: Func,
    rows: Rows,
    arg: Arc<dyn PhysicalExpr>,
    name: String,
    field: FieldRef,
}

impl StandardWindowFunctionExpr for Framed {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn field(&self) -> Result<FieldRef> {
        Ok(Arc::clone(&self.field))
    }

    fn expressions(&self) -> Vec<Arc<dyn PhysicalExpr>> {
        vec![Arc::clone(&self.arg)]
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn create_evaluator(&self) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(Evaluator {
            func: self.func,
            rows: self.rows,
        }))
    }

    fn limit_effect(&self) -> LimitEffect {
        LimitEffect::Unknown
    }
}

#[derive(Debug)]
struct Evaluator {
    func: Func,
    rows: Rows,
}

impl PartitionEvaluator for Evaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        Ok(evaluate(self.func, self.rows, &values[0], num_rows))
    }
}

/// One partition's column of `func` over `rows` frames of `values`.
fn evaluate(func: Func, rows: Rows, values: &ArrayRef, n: usize) -> ArrayRef {
    match (func, values.data_type()) {
        (Func::Count, _) => Arc::new(count(values.as_ref(), rows, n)),
        (Func::Sum, DataType::Int64) => Arc::new(sum_int(values.as_primitive::<Int64Type>(), rows)),
        (Func::Sum, _) => Arc::new(sum_float(values.as_primitive::<Float64Type>(), rows, false)),
        (Func::Avg, _) => Arc::new(sum_float(values.as_primitive::<Float64Type>(), rows, true)),
        (Func::Var { sample, root }, _) => Arc::new(variance(
            values.as_primitive::<Float64Type>(),
            rows,
            sample,
            root,
        )),
        (Func::Min | Func::Max, DataType::Int64) => {
            extreme(values.as_primitive::<Int64Type>(), rows, func, i64::cmp)
        }
        (Func::Min | Func::Max, DataType::Date32) => {
            extreme(values.as_primitive::<Date32Type>(), rows, func, i32::cmp)
        }
        (Func::Min | Func::Max, _) => extreme(
            values.as_primitive::<Float64Type>(),
            rows,
            func,
            f64::total_cmp,
        ),
    }
}

/// Non-null values in each frame, from a prefix count.
fn count(values: &dyn Array, rows: Rows, n: usize) -> Int64Array {
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0i64);
    for i in 0..n {
        prefix.push(prefix[i] + i64::from(values.is_valid(i)));
    }
    Int64Array::from_iter_values((0..n).map(|i| {
        let (lo, hi) = rows.range(i, n);
        prefix[hi] - prefix[lo]
    }))
}

/// Integer sums from prefix sums: wrapping, as DataFusion's `sum` wraps, and exact, since
/// wrapping differences of wrapping sums are the wrapping sums of the frames.
fn sum_int(values: &Int64Array, rows: Rows) -> Int64Array {
    let n = values.len();
    let mut sums = Vec::with_capacity(n + 1);
    let mut counts = Vec::with_capacity(n + 1);
    sums.push(0i64);
    counts.push(0usize);
    for i in 0..n {
        let valid = values.is_valid(i);
        sums.push(sums[i].wrapping_add(if valid { values.value(i) } else { 0 }));
        counts.push(counts[i] + usize::from(valid));
    }
    (0..n)
        .map(|i| {
            let (lo, hi) = rows.range(i, n);
            (counts[hi] > counts[lo]).then(|| sums[hi].wrapping_sub(sums[lo]))
        })
        .collect()
}

/// A compensated (Neumaier) sum: the rounding error of every addition is kept apart, so
/// values can enter and leave a sliding frame without the sum drifting.
#[derive(Debug, Default, Clone, Copy)]
struct Compensated {
    sum: f64,
    error: f64,
}

impl Compensated {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if !t.is_finite() {
            // An infinity or NaN has no rounding error to keep (and would make it NaN).
            self.sum = t;
            return;
        }
        self.error += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    fn value(self) -> f64 {
        if !self.sum.is_finite() {
            return self.sum;
        }
        self.sum + self.error
    }
}

/// Float sums (`mean` false) or means of each frame's non-null values; null for a frame
/// without any. A partition holding an infinity or NaN is summed frame by frame, since
/// retracting one would leave NaN behind.
fn sum_float(values: &Float64Array, rows: Rows, mean: bool) -> Float64Array {
    let n = values.len();
    let finite = values.iter().flatten().all(f64::is_finite);
    let mut out = Vec::with_capacity(n);
    let (mut lo, mut hi) = (0, 0);
    let mut sum = Compensated::default();
    let mut count = 0usize;
    for i in 0..n {
        let (l, h) = rows.range(i, n);
        if !finite || l >= hi {
            // Start the frame afresh: the first row, a gap or a partition with non-finite
            // values.
            (sum, count, lo, hi) = (Compensated::default(), 0, l, l);
        }
        for j in hi..h {
            if values.is_valid(j) {
                sum.add(values.value(j));
                count += 1;
            }
        }
        for j in lo..l {
            if values.is_valid(j) {
                sum.add(-values.value(j));
                count -= 1;
            }
        }
        (lo, hi) = (l, h);
        out.push((count > 0).then(|| {
            let s = sum.value();
            if mean {
                s / count as f64
            } else {
                s
            }
        }));
    }
    Float64Array::from(out)
}

/// Variances (or deviations, `root`) of each frame's non-null values; null for fewer than
/// two (one, for the population form). A frame bounded at both ends is computed from its
/// own values; one that only grows (unbounded at one end) by Welford's update, walked from
/// that end.
fn variance(values: &Float64Array, rows: Rows, sample: bool, root: bool) -> Float64Array {
    let n = values.len();
    let finish = |count: usize, m2: f64| -> Option<f64> {
        let d = if sample { count.checked_sub(1)? } else { count };
        (d > 0).then(|| {
            let v = m2 / d as f64;
            if root {
                v.sqrt()
            } else {
                v
            }
        })
    };
    let mut out: Vec<Option<f64>> = vec![None; n];
    match (rows.start, rows.end) {
        (Some(_), Some(_)) => {
            for (i, slot) in out.iter_mut().enumerate() {
                let (lo, hi) = rows.range(i, n);
                let frame = || {
                    (lo..hi)
                        .filter(|&j| values.is_valid(j))
                        .map(|j| values.value(j))
                };
                let count = frame().count();
                if count == 0 {
                    continue;
                }
                let mean = frame().sum::<f64>() / count as f64;
                let m2 = frame().map(|x| (x - mean) * (x - mean)).sum::<f64>();
                *slot = finish(count, m2);
            }
        }
        (start, _) => {
            // Grows forward (unbounded start) or backward (unbounded end).
            let order: Box<dyn Iterator<Item = usize>> = if start.is_none() {
                Box::new(0..n)
            } else {
                Box::new((0..n).rev())
            };
            let (mut count, mut mean, mut m2) = (0usize, 0.0f64, 0.0f64);
            let mut edge = None::<(usize, usize)>;
            for i in order {
                let (lo, hi) = rows.range(i, n);
                let (add_from, add_to) = match edge {
                    None => (lo, hi),
                    Some((_, phi)) if start.is_none() => (phi, hi),
                    Some((plo, _)) => (lo, plo),
                };
                for j in add_from..add_to.max(add_from) {
                    if values.is_valid(j) {
                        let x = values.value(j);
                        count += 1;
                        let delta = x - mean;
                        mean += delta / count as f64;
                        m2 += delta * (x - mean);
                    }
                }
                edge = Some((lo, hi));
                out[i] = finish(count, m2);
            }
        }
    }
    Float64Array::from(out)
}

/// The least (`Func::Min`) or greatest value of each frame by `cmp` (a total order, so a
/// float's NaN is the greatest, as in Arrow's kernels); null for a frame without values.
/// A monotonic queue of candidates, so each row enters and leaves it once.
fn extreme<T: ArrowPrimitiveType>(
    values: &PrimitiveArray<T>,
    rows: Rows,
    func: Func,
    cmp: fn(&T::Native, &T::Native) -> Ordering,
) -> ArrayRef
where
    T::Native: Copy,
{
    let n = values.len();
    // `a` beats `b`: strictly, so that equal values keep the earlier (either would do).
    let beats = |a: &T::Native, b: &T::Native| match func {
        Func::Min => cmp(a, b) == Ordering::Less,
        _ => cmp(a, b) == Ordering::Greater,
    };
    let mut queue: VecDeque<usize> = VecDeque::new();
    let mut out = Vec::with_capacity(n);
    let mut hi = 0;
    for i in 0..n {
        let (lo, h) = rows.range(i, n);
        for j in hi.max(lo)..h {
            if values.is_valid(j) {
                let v = values.value(j);
                while queue.back().is_some_and(|&k| !beats(&values.value(k), &v)) {
                    queue.pop_back();
                }
                queue.push_back(j);
            }
        }
        hi = hi.max(h);
        while queue.front().is_some_and(|&k| k < lo) {
            queue.pop_front();
        }
        out.push(queue.front().map(|&k| values.value(k)));
    }
    Arc::new(
        out.into_iter()
            .collect::<PrimitiveArray<T>>()
            .with_data_type(values.data_type().clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 600 values in partitions of mixed sizes, with nulls, repeats and wide magnitudes.
    fn data() -> Vec<Option<f64>> {
        let mut state = 11u64;
        (0..600)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = state >> 33;
                (!r.is_multiple_of(9))
                    .then(|| ((r % 20_000) as f64 - 7_000.0) * 10f64.powi((r % 7) as i32 - 2))
            })
            .collect()
    }

    fn frames() -> Vec<Rows> {
        let o = |s: Option<i64>, e: Option<i64>| Rows { start: s, end: e };
        vec![
            o(Some(-49), Some(0)),
            o(Some(-60), Some(-1)),
            o(Some(-2), Some(3)),
            o(Some(1), Some(4)),
            o(Some(-5), Some(-7)), // always empty
            o(None, Some(0)),
            o(None, Some(-3)),
            o(None, Some(2)),
            o(Some(0), None),
            o(Some(-4), None),
            o(Some(2), None),
        ]
    }

    /// The frame's non-null values, from the definition.
    fn naive(values: &[Option<f64>], rows: Rows, i: usize) -> Vec<f64> {
        let n = values.len() as i64;
        let lo = rows.start.map_or(0, |o| i as i64 + o).max(0);
        let hi = rows.end.map_or(n - 1, |o| i as i64 + o).min(n - 1);
        (lo..=hi).filter_map(|j| values[j as usize]).collect()
    }

    /// Equal to rounding: `scale` is the size the error grows with (the sum of the
    /// magnitudes, for a sum).
    fn close(a: Option<f64>, b: Option<f64>, scale: f64, what: &str) {
        match (a, b) {
            (Some(a), Some(b)) => {
                let tol = 1e-12 * scale.max(a.abs()).max(b.abs());
                assert!((a - b).abs() <= tol, "{what}: {a} vs {b}");
            }
            _ => assert_eq!(a.is_some(), b.is_some(), "{what}: {a:?} vs {b:?}"),
        }
    }

    #[test]
    fn every_kernel_agrees_with_the_definition_on_every_frame_shape() {
        let all = data();
        // Partitions of 0, 1, 2, 7, 90 and 500 rows.
        let mut at = 0;
        for len in [0usize, 1, 2, 7, 90, 500] {
            let part = &all[at..at + len];
            at += len;
            let floats = Float64Array::from(part.to_vec());
            let ints =
                Int64Array::from(part.iter().map(|v| v.map(|x| x as i64)).collect::<Vec<_>>());
            let array: ArrayRef = Arc::new(floats.clone());
            let int_array: ArrayRef = Arc::new(ints.clone());
            for rows in frames() {
                let counts = count(&floats, rows, len);
                let sums = sum_float(&floats, rows, false);
                let means = sum_float(&floats, rows, true);
                let int_sums = sum_int(&ints, rows);
                let sds = variance(&floats, rows, true, true);
                let pops = variance(&floats, rows, false, false);
                let maxes = evaluate(Func::Max, rows, &array, len);
                let mins = evaluate(Func::Min, rows, &int_array, len);
                for i in 0..len {
                    let what = format!("{len} rows, {rows:?}, row {i}");
                    let frame = naive(part, rows, i);
                    let k = frame.len();
                    assert_eq!(counts.value(i), k as i64, "{what}");
                    let sum: f64 = frame.iter().sum();
                    let magnitude: f64 = frame.iter().map(|x| x.abs()).sum();
                    let square: f64 = frame.iter().map(|x| x * x).sum::<f64>() / k.max(1) as f64;
                    let value = |a: &Float64Array| a.is_valid(i).then(|| a.value(i));
                    close(value(&sums), (k > 0).then_some(sum), magnitude, &what);
                    close(
                        value(&means),
                        (k > 0).then(|| sum / k as f64),
                        magnitude / k.max(1) as f64,
                        &what,
                    );
                    let isum: i64 = frame.iter().map(|x| *x as i64).sum();
                    assert_eq!(
                        int_sums.is_valid(i).then(|| int_sums.value(i)),
                        (k > 0).then_some(isum),
                        "{what}"
                    );
                    let mean = sum / k as f64;
                    let m2: f64 = frame.iter().map(|x| (x - mean) * (x - mean)).sum();
                    close(
                        value(&sds),
                        (k > 1).then(|| (m2 / (k - 1) as f64).sqrt()),
                        square.sqrt(),
                        &what,
                    );
                    close(value(&pops), (k > 0).then(|| m2 / k as f64), square, &what);
                    let max = frame.iter().copied().reduce(f64::max);
                    let maxes = maxes.as_primitive::<Float64Type>();
                    assert_eq!(maxes.is_valid(i).then(|| maxes.value(i)), max, "{what}");
                    let min = frame.iter().map(|x| *x as i64).min();
                    let mins = mins.as_primitive::<Int64Type>();
                    assert_eq!(mins.is_valid(i).then(|| mins.value(i)), min, "{what}");
                }
            }
        }
    }

    #[test]
    fn offsets_as_large_as_sql_allows_reach_the_partition_edges() {
        let huge = Rows {
            start: Some(-i64::MAX),
            end: Some(i64::MAX),
        };
        assert_eq!(huge.range(3, 10), (0, 10));
        assert_eq!(huge.width(), Some(i64::MAX));
        let ahead = Rows {
            start: Some(i64::MAX),
            end: Some(i64::MAX),
        };
        assert_eq!(ahead.range(3, 10), (10, 10));
    }

    #[test]
    fn a_sliding_sum_does_not_drift_after_huge_values_leave() {
        // 1e16 enters and leaves a 3-row frame; the ones after it must sum to exactly 3.
        let mut v = vec![Some(1e16), Some(1.0), Some(-1e16)];
        v.extend(std::iter::repeat_n(Some(1.0), 20));
        let sums = sum_float(
            &Float64Array::from(v),
            Rows {
                start: Some(-2),
                end: Some(0),
            },
            false,
        );
        assert_eq!(sums.value(22), 3.0);
        assert_eq!(sums.value(2), 1.0);
    }

    #[test]
    fn non_finite_values_stay_in_their_frames() {
        let v = vec![
            Some(1.0),
            Some(f64::INFINITY),
            Some(2.0),
            Some(3.0),
            Some(4.0),
        ];
        let sums = sum_float(
            &Float64Array::from(v),
            Rows {
                start: Some(-1),
                end: Some(0),
            },
            false,
        );
        assert_eq!(
            sums.values().to_vec(),
            vec![1.0, f64::INFINITY, f64::INFINITY, 5.0, 7.0]
        );
    }
}
