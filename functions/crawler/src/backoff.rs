//! Polling intervals that grow: a crawl takes minutes, so asking Glue every second would
//! only spend API quota. Kept as data so tests pass zero or millisecond delays.

use std::time::Duration;

/// Delays between polls: `first`, then multiplied by `factor` each time, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first delay.
    pub first: Duration,
    /// Growth per poll (2.0 doubles).
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
    fn delays_double_up_to_the_cap() {
        let d: Vec<u64> = Backoff::CRAWLER
            .delays()
            .take(6)
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(d, [2, 4, 8, 15, 15, 15]);
        assert!(Backoff::NONE.delays().take(3).all(|d| d.is_zero()));
    }
}
