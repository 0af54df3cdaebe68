//! Polling intervals that grow: a Glue crawl takes minutes and most Athena queries a second
//! or two, so polls start fast and slow down instead of spending API quota. Kept as data so
//! tests pass zero or millisecond delays.

use std::time::Duration;

/// Delays between polls: `first`, then multiplied by `factor` each time, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first delay.
    pub first: Duration,
    /// Growth per poll (2.0 doubles, 1.5 is half as long again).
    pub factor: f64,
    /// The largest delay.
    pub max: Duration,
}

impl Backoff {
    /// For `GetCrawler`: 2 s doubling to 15 s (a crawl of a small lake takes about a minute).
    pub const CRAWLER: Backoff = Backoff {
        first: Duration::from_secs(2),
        factor: 2.0,
        max: Duration::from_secs(15),
    };

    /// For `GetQueryExecution`: 200 ms, ×1.5, up to 5 s (a cold or queued query can take a
    /// minute).
    pub const ATHENA: Backoff = Backoff {
        first: Duration::from_millis(200),
        factor: 1.5,
        max: Duration::from_secs(5),
    };

    /// No waiting at all (tests).
    pub const NONE: Backoff = Backoff {
        first: Duration::ZERO,
        factor: 1.0,
        max: Duration::ZERO,
    };

    /// The endless sequence of delays.
    pub fn delays(self) -> impl Iterator<Item = Duration> {
        std::iter::successors(Some(self.first.min(self.max)), move |d| {
            Some(d.mul_f64(self.factor.max(1.0)).min(self.max))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crawler_delays_double_up_to_the_cap() {
        let d: Vec<u64> = Backoff::CRAWLER
            .delays()
            .take(6)
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(d, [2, 4, 8, 15, 15, 15]);
        assert!(Backoff::NONE.delays().take(3).all(|d| d.is_zero()));
    }

    #[test]
    fn athena_delays_grow_by_half_up_to_the_cap() {
        let d: Vec<u128> = Backoff::ATHENA
            .delays()
            .take(12)
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(
            d,
            [200, 300, 450, 675, 1012, 1518, 2278, 3417, 5000, 5000, 5000, 5000]
        );
    }

    #[test]
    fn a_factor_below_one_never_shrinks_the_delay() {
        let b = Backoff {
            first: Duration::from_millis(10),
            factor: 0.5,
            max: Duration::from_secs(1),
        };
        assert!(b.delays().take(4).all(|d| d == Duration::from_millis(10)));
    }
}
