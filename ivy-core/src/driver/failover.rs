//! Failover clocks: each crash of a primary, timed to the first request a primary of
//! a newer view serves.

use crate::protocol::ids::View;

/// Every failover of a run, timed in the driver's unit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailoverClocks {
    clocks: Vec<FailoverClock>,
    running: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FailoverClock {
    crashed_at: u64,
    crashed_view: View,
    served_at: Option<u64>,
}

impl FailoverClocks {
    /// Starts a clock: the primary of `view` crashed at `crashed_at`.
    pub fn start(&mut self, crashed_at: u64, view: View) {
        self.clocks.push(FailoverClock {
            crashed_at,
            crashed_view: view,
            served_at: None,
        });
        self.running += 1;
    }

    /// The primary of `view` completed a request at `now`: stops every clock of a
    /// crash in an older view.
    pub fn served(&mut self, view: View, now: u64) {
        for clock in &mut self.clocks {
            if clock.served_at.is_none() && clock.crashed_view < view {
                clock.served_at = Some(now);
                self.running -= 1;
            }
        }
    }

    /// How many clocks still run.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Every failover time, in crash order; `None` where no newer primary served a
    /// request after the crash.
    pub fn durations(&self) -> Vec<Option<u64>> {
        let elapsed = |clock: &FailoverClock| {
            let served_at = clock.served_at?;
            Some(served_at.saturating_sub(clock.crashed_at))
        };
        self.clocks.iter().map(elapsed).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_stops_at_the_first_request_a_newer_primary_serves() {
        let mut clocks = FailoverClocks::default();
        clocks.start(100, View(0));
        clocks.served(View(0), 150); // the crashed view's own late completion
        assert_eq!(clocks.running(), 1);
        clocks.served(View(1), 180);
        clocks.served(View(1), 190);
        clocks.start(300, View(1));
        assert_eq!(clocks.durations(), vec![Some(80), None]);
        assert_eq!(clocks.running(), 1);
    }
}
