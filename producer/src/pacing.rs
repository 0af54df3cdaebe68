//! When to send the next row.
//!
//! The pacer only computes deadlines; the caller waits (by polling the Kafka client, so
//! delivery reports keep flowing while it waits). Time is passed in, never read here, which
//! keeps the arithmetic testable.

use chrono::NaiveDateTime;
use std::time::{Duration, Instant};

/// Pacing policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// As fast as the broker accepts rows.
    Unlimited,
    /// A fixed number of rows per second.
    Rate(f64),
    /// Rows' own timestamps, sped up by a factor.
    Replay(f64),
}

/// Tracks the schedule of one run.
#[derive(Debug)]
pub struct Pacer {
    pacing: Pacing,
    start: Option<(Instant, Option<NaiveDateTime>)>,
    sent: u64,
}

impl Pacer {
    /// A pacer for `pacing`.
    pub fn new(pacing: Pacing) -> Self {
        Self {
            pacing,
            start: None,
            sent: 0,
        }
    }

    /// True when rows go as fast as the broker takes them: the sender then need not read
    /// the clock for every row.
    pub fn unlimited(&self) -> bool {
        self.pacing == Pacing::Unlimited
    }

    /// The instant at which the row with timestamp `ts` may be sent; `None` means now.
    /// `now` is the current time (the first call fixes the schedule's origin).
    pub fn deadline(&mut self, ts: NaiveDateTime, now: Instant) -> Option<Instant> {
        let (origin, first_ts) = *self.start.get_or_insert((now, Some(ts)));
        let n = self.sent;
        self.sent += 1;
        let offset = match self.pacing {
            Pacing::Unlimited => return None,
            Pacing::Rate(r) => Duration::from_secs_f64(n as f64 / r),
            Pacing::Replay(speed) => {
                let market = ts - first_ts.expect("set with origin");
                let secs = market.num_milliseconds() as f64 / 1000.0 / speed;
                // A row older than the first (another symbol, or a new pass) goes at once.
                Duration::from_secs_f64(secs.max(0.0))
            }
        };
        let at = origin + offset;
        (at > now).then_some(at)
    }

    /// Starts the schedule again (a new pass of `--loop`).
    pub fn restart(&mut self) {
        self.start = None;
        self.sent = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2020, 1, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    #[test]
    fn unlimited_never_waits() {
        let mut p = Pacer::new(Pacing::Unlimited);
        let t = Instant::now();
        assert_eq!(p.deadline(day(1), t), None);
        assert_eq!(p.deadline(day(2), t), None);
    }

    #[test]
    fn rate_spaces_rows_evenly() {
        let mut p = Pacer::new(Pacing::Rate(4.0));
        let t = Instant::now();
        assert_eq!(p.deadline(day(1), t), None);
        assert_eq!(p.deadline(day(1), t), Some(t + Duration::from_millis(250)));
        assert_eq!(p.deadline(day(1), t), Some(t + Duration::from_millis(500)));
        // Running late: no wait.
        assert_eq!(p.deadline(day(1), t + Duration::from_secs(5)), None);
    }

    #[test]
    fn replay_follows_market_time() {
        let mut p = Pacer::new(Pacing::Replay(86_400.0));
        let t = Instant::now();
        assert_eq!(p.deadline(day(2), t), None);
        assert_eq!(p.deadline(day(3), t), Some(t + Duration::from_secs(1)));
        assert_eq!(p.deadline(day(6), t), Some(t + Duration::from_secs(4)));
        assert_eq!(p.deadline(day(1), t), None, "older rows go at once");
        p.restart();
        assert_eq!(p.deadline(day(9), t + Duration::from_secs(10)), None);
        assert_eq!(
            p.deadline(day(10), t + Duration::from_secs(10)),
            Some(t + Duration::from_secs(11))
        );
    }
}
