//! Polling intervals that grow: most insight queries finish in a second or two, a cold or
//! queued one can take a minute, so polls start fast and slow down. Kept as data so tests
//! pass zero or millisecond delays.

use std::time::Duration;

/// Delays between polls: `first`, then multiplied by `factor` each time, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first delay.
    pub first: Duration,
    /// Growth per poll (1.5 = half as long again).
    pub factor: f64,
    /// The largest delay.
    pub max: Duration,
}

impl Backoff {
    /// For `GetQueryExecution`: 200 ms, ×1.5, up to 5 s.
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
    fn delays_grow_by_half_up_to_the_cap() {
        let d: Vec<u128> = Backoff::ATHENA
            .delays()
            .take(12)
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(
            d,
            [200, 300, 450, 675, 1012, 1518, 2278, 3417, 5000, 5000, 5000, 5000]
        );
        assert!(Backoff::NONE.delays().take(3).all(|d| d.is_zero()));
    }
}
