//! Which bytes of a fragmented message have arrived: a short sorted list of runs.
//!
//! A bitmap would need a size computed from the message capacity, which const generics cannot
//! yet express; runs are exact, and Linux's fragments are contiguous, so a message in any arrival
//! order needs few of them. The number of runs is capped, so a sender that scatters tiny fragments
//! is refused (and counted), not given unbounded bookkeeping.

/// The most disjoint runs one message may have while it is being reassembled.
pub const MAX_RUNS: usize = 32;

/// A fragment would need one more run than [`MAX_RUNS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyRuns;

/// Received byte ranges: sorted, half-open, neither overlapping nor touching.
#[derive(Debug, Clone)]
pub struct Coverage {
    runs: heapless::Vec<(u32, u32), MAX_RUNS>,
}

impl Coverage {
    /// Nothing received.
    pub const fn new() -> Self {
        Coverage { runs: heapless::Vec::new() }
    }

    /// The received runs, in order.
    pub fn runs(&self) -> &[(u32, u32)] {
        &self.runs
    }

    /// Whether `0..total` has arrived, all of it.
    pub fn is_complete(&self, total: u32) -> bool {
        self.runs.as_slice() == [(0, total)]
    }

    /// Records `start..end` as received. `Ok(true)` if some of it is new, `Ok(false)` if all of
    /// it had arrived before (a duplicate). An empty range adds nothing.
    pub fn insert(&mut self, start: u32, end: u32) -> Result<bool, TooManyRuns> {
        if start >= end {
            return Ok(false);
        }
        // Runs that overlap or touch start..end are first..last (exclusive); runs are sorted, so
        // first <= last.
        let first = self.runs.iter().position(|&(_, e)| e >= start).unwrap_or(self.runs.len());
        let last = self.runs.iter().position(|&(s, _)| s > end).unwrap_or(self.runs.len());
        let touching = self.runs.get(first..last).unwrap_or_default();
        let (Some(&(low, _)), Some(&(_, high))) = (touching.first(), touching.last()) else {
            return self.runs.insert(first, (start, end)).map(|()| true).map_err(|_| TooManyRuns);
        };
        let duplicate = touching.len() == 1 && low <= start && end <= high;
        if let Some(run) = self.runs.get_mut(first) {
            *run = (low.min(start), high.max(end));
        }
        for _ in first + 1..last {
            self.runs.remove(first + 1);
        }
        Ok(!duplicate)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn merges_in_any_order() {
        let mut c = Coverage::new();
        assert_eq!(c.insert(970, 1500), Ok(true));
        assert_eq!(c.insert(0, 10), Ok(true));
        assert_eq!(c.runs(), [(0, 10), (970, 1500)]);
        assert_eq!(c.insert(0, 10), Ok(false));
        assert_eq!(c.insert(980, 990), Ok(false));
        assert_eq!(c.insert(5, 975), Ok(true));
        assert!(c.is_complete(1500));
    }

    #[test]
    fn touching_runs_merge() {
        let mut c = Coverage::new();
        c.insert(0, 10).unwrap();
        c.insert(20, 30).unwrap();
        c.insert(10, 20).unwrap();
        assert_eq!(c.runs(), [(0, 30)]);
    }

    #[test]
    fn one_range_swallows_many() {
        let mut c = Coverage::new();
        for i in 0..10 {
            c.insert(i * 10 + 1, i * 10 + 5).unwrap();
        }
        assert_eq!(c.runs().len(), 10);
        assert_eq!(c.insert(0, 100), Ok(true));
        assert_eq!(c.runs(), [(0, 100)]);
    }

    #[test]
    fn runs_are_capped() {
        let mut c = Coverage::new();
        for i in 0..MAX_RUNS as u32 {
            c.insert(i * 2, i * 2 + 1).unwrap();
        }
        assert_eq!(c.insert(1000, 1001), Err(TooManyRuns));
        // Extending an existing run still works when full.
        assert_eq!(c.insert(1, 2), Ok(true));
    }
}
