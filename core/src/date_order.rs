//! A file's day/month order, decided once for the whole file from its own dates.
//!
//! `03/04/2020` is the 3rd of April or the 4th of March; no single date says which. A file
//! does, though: a day-first export also holds `13/04/2020` … `31/04/2020`, which can only
//! be read day first. So with `auto` the order comes from the file's unambiguous numeric
//! dates, and the whole file is read that way:
//!
//! - they all agree → the file is day-first ([`FileOrder::DayFirst`]) or month-first;
//! - they disagree (some only day-first, some only month-first) → the file is refused: reading
//!   it either way would move some bars to another day, and reading it row by row would land
//!   part of it with gaps;
//! - there are ambiguous dates but none that decides → refused too, since any choice is a
//!   guess;
//! - no date needs an order at all (ISO `2020-04-03`, `20200403`, month names, `05/05/2020`)
//!   → nothing to decide ([`FileOrder::NotNeeded`]).
//!
//! [`decide`] is the pure rule over date texts; [`Tally`] is the same rule fed one date at a
//! time, so a reader can stop as soon as the answer is known
//! ([`crate::reader::scan_date_order`]). A refusal ([`OrderRefusal`]) carries the counts and
//! the first line numbers of each kind, so the message can point at the rows that disagree.

use crate::date::{parse_date_time, DateOrder};
use std::fmt;

/// What one date text says about the day/month order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateShape {
    /// Reads the same in either order (ISO, compact, a month name, or day = month).
    Neutral,
    /// A real day only when read day first (`13/04/2020`).
    DayFirst,
    /// A real day only when read month first (`04/13/2020`).
    MonthFirst,
    /// A different real day in each order (`03/04/2020`).
    Ambiguous,
    /// Not a date in either order; its row is rejected when read, and it decides nothing.
    Unreadable,
}

/// Classifies one date (or date-time) cell by reading it both ways.
pub fn classify(text: &str) -> DateShape {
    match (
        parse_date_time(text, DateOrder::Dmy),
        parse_date_time(text, DateOrder::Mdy),
    ) {
        (Ok(a), Ok(b)) if a == b => DateShape::Neutral,
        (Ok(_), Ok(_)) => DateShape::Ambiguous,
        (Ok(_), Err(_)) => DateShape::DayFirst,
        (Err(_), Ok(_)) => DateShape::MonthFirst,
        (Err(_), Err(_)) => DateShape::Unreadable,
    }
}

/// The order a file is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOrder {
    /// No date needs an order; read with [`DateOrder::Auto`] (a stray ambiguous date
    /// later in the file is rejected as ambiguous, not guessed).
    NotNeeded,
    /// Day first: `31/01/2020`.
    DayFirst,
    /// Month first: `01/31/2020`.
    MonthFirst,
}

impl FileOrder {
    /// The [`DateOrder`] to read the file with.
    pub fn date_order(self) -> DateOrder {
        match self {
            FileOrder::NotNeeded => DateOrder::Auto,
            FileOrder::DayFirst => DateOrder::Dmy,
            FileOrder::MonthFirst => DateOrder::Mdy,
        }
    }
}

impl fmt::Display for FileOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileOrder::NotNeeded => "unambiguous (no day/month order needed)",
            FileOrder::DayFirst => "day-first (dmy)",
            FileOrder::MonthFirst => "month-first (mdy)",
        })
    }
}

/// How many line numbers of each kind a tally keeps, to point at them in a message.
pub const FIRST_LINES: usize = 3;

/// Counts of date shapes seen, with the first line numbers of the deciding kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderCounts {
    /// Dates that read only day first.
    pub day_first: u64,
    /// Dates that read only month first.
    pub month_first: u64,
    /// Dates that read as two different days.
    pub ambiguous: u64,
    /// Dates that need no order.
    pub neutral: u64,
    /// Of the neutral ones, numeric dates whose day equals their month (`04/04/2020`): they
    /// read the same either way but say the file writes order-dependent dates.
    #[serde(default)]
    pub symmetric: u64,
    /// Dates that read neither way (their rows are rejected later).
    pub unreadable: u64,
    /// First lines (up to [`FIRST_LINES`]) of day-first-only dates.
    pub first_day_first: Vec<u64>,
    /// First lines (up to [`FIRST_LINES`]) of month-first-only dates.
    pub first_month_first: Vec<u64>,
    /// First lines (up to [`FIRST_LINES`]) of ambiguous dates.
    pub first_ambiguous: Vec<u64>,
}

/// Why a file's order cannot be decided from its dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalKind {
    /// Some dates read only day first, others only month first.
    Conflict,
    /// Some dates are ambiguous and none reads only one way.
    Undecided,
}

/// A file whose day/month order its dates do not settle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct OrderRefusal {
    /// Which case.
    pub kind: RefusalKind,
    /// What was seen.
    pub counts: Box<OrderCounts>,
}

fn lines(v: &[u64]) -> String {
    let list: Vec<String> = v.iter().map(u64::to_string).collect();
    format!(
        "line{} {}",
        if v.len() == 1 { "" } else { "s" },
        list.join(", ")
    )
}

impl fmt::Display for OrderRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        match self.kind {
            RefusalKind::Conflict => write!(
                f,
                "its dates disagree on the day/month order: {} read only day-first (first on {}), \
                 {} only month-first (first on {}), {} either way; the file is refused rather than \
                 read half one way and half the other",
                c.day_first,
                lines(&c.first_day_first),
                c.month_first,
                lines(&c.first_month_first),
                c.ambiguous
            ),
            RefusalKind::Undecided => write!(
                f,
                "the day/month order cannot be read from its dates: {} read either way (first on \
                 {}) and none only one way (no day above 12), so any order would be a guess",
                c.ambiguous,
                lines(&c.first_ambiguous)
            ),
        }
    }
}

/// The decision rule fed one date at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    counts: OrderCounts,
}

impl Tally {
    /// Counts the date `text` found on `line`.
    pub fn add(&mut self, line: u64, text: &str) {
        let c = &mut self.counts;
        let keep = |v: &mut Vec<u64>| {
            if v.len() < FIRST_LINES {
                v.push(line)
            }
        };
        match classify(text) {
            DateShape::Neutral => {
                c.neutral += 1;
                if order_dependent(text) {
                    c.symmetric += 1;
                }
            }
            DateShape::Unreadable => c.unreadable += 1,
            DateShape::DayFirst => {
                c.day_first += 1;
                keep(&mut c.first_day_first);
            }
            DateShape::MonthFirst => {
                c.month_first += 1;
                keep(&mut c.first_month_first);
            }
            DateShape::Ambiguous => {
                c.ambiguous += 1;
                keep(&mut c.first_ambiguous);
            }
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> &OrderCounts {
        &self.counts
    }

    /// True when more dates could still change the answer: none has decided yet, and the
    /// file writes order-dependent dates (ambiguous ones, or ones like `04/04/2020`), so a
    /// later ambiguous date would otherwise be read with no order and rejected: a partial
    /// ingest.
    pub fn wants_more(&self) -> bool {
        let c = &self.counts;
        (c.ambiguous > 0 || c.symmetric > 0) && c.day_first == 0 && c.month_first == 0
    }

    /// The decision from the dates counted so far, knowing whether they were all of the
    /// file's: a scan cut short that saw order-dependent dates but none deciding refuses
    /// (the rest could hold ambiguous dates), where a whole file of `04/04/2020`-like dates
    /// needs no order.
    pub fn decision_after(&self, to_end: bool) -> Result<FileOrder, OrderRefusal> {
        if !to_end && self.wants_more() {
            return Err(OrderRefusal {
                kind: RefusalKind::Undecided,
                counts: Box::new(self.counts.clone()),
            });
        }
        self.decision()
    }

    /// The decision from the dates counted so far.
    pub fn decision(&self) -> Result<FileOrder, OrderRefusal> {
        let c = &self.counts;
        let refuse = |kind| {
            Err(OrderRefusal {
                kind,
                counts: Box::new(c.clone()),
            })
        };
        match (c.day_first > 0, c.month_first > 0) {
            (true, true) => refuse(RefusalKind::Conflict),
            (true, false) => Ok(FileOrder::DayFirst),
            (false, true) => Ok(FileOrder::MonthFirst),
            (false, false) if c.ambiguous > 0 => refuse(RefusalKind::Undecided),
            (false, false) => Ok(FileOrder::NotNeeded),
        }
    }
}

/// True for a numeric date whose day/month order matters in general: one or two digits, a
/// separator, one or two digits (`04/04/2020`, `4.4.2020`), not ISO or compact forms.
fn order_dependent(text: &str) -> bool {
    let b = text.trim().as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let first = digits(0);
    if !(1..=2).contains(&first) || b.len() <= first {
        return false;
    }
    let sep = b[first];
    if !matches!(sep, b'/' | b'.' | b'-') {
        return false;
    }
    let second = digits(first + 1);
    (1..=2).contains(&second) && b.get(first + 1 + second) == Some(&sep)
}

/// Decides a file's order from its dates, each with its line number.
pub fn decide<'a>(
    dates: impl IntoIterator<Item = (u64, &'a str)>,
) -> Result<FileOrder, OrderRefusal> {
    let mut t = Tally::default();
    for (line, text) in dates {
        t.add(line, text);
    }
    t.decision()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered<'a>(dates: &[&'a str]) -> Vec<(u64, &'a str)> {
        dates
            .iter()
            .enumerate()
            .map(|(i, d)| (i as u64 + 2, *d))
            .collect()
    }

    #[test]
    fn a_day_equal_to_its_month_marks_an_order_dependent_file() {
        assert!(order_dependent("04/04/2020"));
        assert!(order_dependent("4.4.2020"));
        assert!(!order_dependent("2020-04-04"));
        assert!(!order_dependent("20200404"));
        assert!(!order_dependent("04-Apr-2020"));
        // A scan cut short after `04/04/2018` has not decided: `04/05/2018` may follow.
        let mut t = Tally::default();
        t.add(2, "04/04/2018");
        assert!(t.wants_more());
        assert_eq!(
            t.decision_after(false).unwrap_err().kind,
            RefusalKind::Undecided
        );
        assert_eq!(t.decision_after(true), Ok(FileOrder::NotNeeded));
        t.add(3, "04/05/2018");
        assert_eq!(
            t.decision_after(true).unwrap_err().kind,
            RefusalKind::Undecided
        );
        t.add(4, "04/13/2018");
        assert!(!t.wants_more());
        assert_eq!(t.decision_after(false), Ok(FileOrder::MonthFirst));
        // ISO dates decide nothing and need nothing.
        let mut iso = Tally::default();
        iso.add(2, "2018-04-04");
        assert!(!iso.wants_more());
        assert_eq!(iso.decision_after(false), Ok(FileOrder::NotNeeded));
    }

    #[test]
    fn shapes() {
        assert_eq!(classify("2020-04-03"), DateShape::Neutral);
        assert_eq!(classify("20200403"), DateShape::Neutral);
        assert_eq!(classify("3-Apr-2020"), DateShape::Neutral);
        assert_eq!(classify("05/05/2020"), DateShape::Neutral);
        assert_eq!(classify("13/04/2020"), DateShape::DayFirst);
        assert_eq!(classify("04/13/2020"), DateShape::MonthFirst);
        assert_eq!(classify("03/04/2020"), DateShape::Ambiguous);
        assert_eq!(classify("03.04.2020 09:30"), DateShape::Ambiguous);
        assert_eq!(classify("31/02/2020"), DateShape::Unreadable);
        assert_eq!(classify("soon"), DateShape::Unreadable);
    }

    #[test]
    fn agreeing_dates_decide_the_whole_file() {
        let dmy = numbered(&["03/04/2020", "13/04/2020", "01/05/2020", "bad"]);
        assert_eq!(decide(dmy), Ok(FileOrder::DayFirst));
        let mdy = numbered(&["03/04/2020", "04/13/2020", "05/01/2020"]);
        assert_eq!(decide(mdy), Ok(FileOrder::MonthFirst));
        let iso = numbered(&["2020-04-03", "2020-04-13"]);
        assert_eq!(decide(iso), Ok(FileOrder::NotNeeded));
        assert_eq!(decide([]), Ok(FileOrder::NotNeeded));
    }

    #[test]
    fn disagreeing_dates_are_refused_with_counts_and_lines() {
        let mixed = numbered(&[
            "03/04/2020",
            "13/04/2020",
            "14/04/2020",
            "04/15/2020",
            "2020-04-16",
        ]);
        let r = decide(mixed).unwrap_err();
        assert_eq!(r.kind, RefusalKind::Conflict);
        assert_eq!(
            (
                r.counts.day_first,
                r.counts.month_first,
                r.counts.ambiguous,
                r.counts.neutral
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(r.counts.first_day_first, [3, 4]);
        assert_eq!(r.counts.first_month_first, [5]);
        assert_eq!(
            r.to_string(),
            "its dates disagree on the day/month order: 2 read only day-first (first on lines \
             3, 4), 1 only month-first (first on line 5), 1 either way; the file is refused \
             rather than read half one way and half the other"
        );
    }

    #[test]
    fn all_ambiguous_is_refused() {
        let r = decide(numbered(&["03/04/2020", "04/04/2020", "2020-04-05"])).unwrap_err();
        assert_eq!(r.kind, RefusalKind::Undecided);
        assert_eq!(r.counts.first_ambiguous, [2]);
        assert!(
            r.to_string()
                .contains(": 1 read either way (first on line 2) and none"),
            "{r}"
        );
    }

    #[test]
    fn a_tally_wants_more_only_while_undecided() {
        let mut t = Tally::default();
        assert!(!t.wants_more(), "nothing ambiguous yet");
        t.add(2, "03/04/2020");
        assert!(t.wants_more());
        t.add(3, "13/04/2020");
        assert!(!t.wants_more());
        assert_eq!(t.decision(), Ok(FileOrder::DayFirst));
    }
}
