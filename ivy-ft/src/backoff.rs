//! Spacing of takeover attempts: after a fence fails, a manager waits longer, with
//! jitter, before it tries again, so that two managers (or one that keeps timing out on
//! a loaded machine) do not keep unseating each other.

use ivy_core::{Incarnation, NodeId};

/// The doubling is capped at this many failures (32 failover timeouts at most).
const MAX_DOUBLINGS: u32 = 5;

/// When the next takeover attempt may start. Its jitter is a deterministic function of
/// the manager and its incarnation, so a run replays exactly.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Backoff {
    failures: u32,
    not_before_ticks: u64,
    random_state: u64,
}

impl Backoff {
    pub(crate) fn new(manager: NodeId, incarnation: Incarnation) -> Backoff {
        Backoff {
            failures: 0,
            not_before_ticks: 0,
            random_state: (u64::from(manager.0) << 40) ^ incarnation.0 ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// Whether an attempt may start at `now_ticks`.
    pub(crate) fn allows(&self, now_ticks: u64) -> bool {
        now_ticks >= self.not_before_ticks
    }

    /// The first moment an attempt may start.
    pub(crate) fn not_before_ticks(&self) -> u64 {
        self.not_before_ticks
    }

    /// An attempt failed at `now_ticks`: the next waits between one half and one whole
    /// of `base_ticks` doubled once per failure so far.
    pub(crate) fn failed(&mut self, now_ticks: u64, base_ticks: u64) {
        self.failures = self.failures.saturating_add(1);
        let span_ticks = base_ticks.max(1) << self.failures.min(MAX_DOUBLINGS);
        let jitter_ticks = self.next_random() % (span_ticks / 2 + 1);
        self.not_before_ticks = now_ticks + span_ticks / 2 + jitter_ticks;
    }

    /// An attempt succeeded: the next may start at once.
    pub(crate) fn succeeded(&mut self) {
        self.failures = 0;
        self.not_before_ticks = 0;
    }

    /// SplitMix64: small, seeded, and good enough for jitter.
    fn next_random(&mut self) -> u64 {
        self.random_state = self.random_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = self.random_state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^ (mixed >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_with_failures_and_reset_on_success() {
        let mut backoff = Backoff::new(NodeId(4), Incarnation(0));
        assert!(backoff.allows(0));
        backoff.failed(100, 50);
        assert!(!backoff.allows(149), "at least half of 100 ticks");
        assert!(backoff.allows(201), "at most 100 ticks");
        backoff.failed(200, 50);
        assert!(!backoff.allows(299), "at least half of 200 ticks");
        assert!(backoff.allows(401));
        backoff.succeeded();
        assert!(backoff.allows(0));
    }

    #[test]
    fn the_two_managers_draw_different_jitter() {
        let waits = |manager| {
            let mut backoff = Backoff::new(NodeId(manager), Incarnation(0));
            (0..8)
                .map(|_| {
                    backoff.failed(0, 1000);
                    backoff.not_before_ticks
                })
                .collect::<Vec<_>>()
        };
        assert_ne!(waits(4), waits(5));
    }

    #[test]
    fn the_jitter_comes_from_splitmix64() {
        // Manager 0's first life starts SplitMix64 one step past seed 0, so it draws
        // the reference generator's second, third and fourth outputs for seed 0.
        let mut backoff = Backoff::new(NodeId(0), Incarnation(0));
        let drawn: Vec<u64> = (0..3).map(|_| backoff.next_random()).collect();
        let reference = [
            0x6e78_9e6a_a1b9_65f4,
            0x06c4_5d18_8009_454f,
            0xf88b_b8a8_724c_81ec,
        ];
        assert_eq!(drawn, reference);
    }

    #[test]
    fn a_wait_is_any_whole_number_of_ticks_from_half_the_span_to_all_of_it() {
        // With a base of one tick, the first failure's span is 2 ticks: the wait is 1
        // or 2, and over many managers both occur; a larger base stays in bounds.
        let mut waits = std::collections::BTreeSet::new();
        for manager in 0..64 {
            let mut backoff = Backoff::new(NodeId(manager), Incarnation(0));
            backoff.failed(1000, 1);
            waits.insert(backoff.not_before_ticks - 1000);
            let mut wide = Backoff::new(NodeId(manager), Incarnation(3));
            for failures in 1..=8u32 {
                wide.failed(0, 50);
                let span = 50 << failures.min(MAX_DOUBLINGS);
                assert!(
                    (span / 2..=span).contains(&wide.not_before_ticks),
                    "{failures}"
                );
            }
        }
        assert_eq!(waits.into_iter().collect::<Vec<_>>(), vec![1, 2]);
    }
}
