//! A board where each manager's thread posts its status after every input, so that
//! other threads can find the primary, tell whether a crash would lose state, and see
//! when the managers have settled.

use ivy_core::sim::{crash_keeps_state, SimManager};
use ivy_core::View;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const NO_STATE: u64 = 0;
const NOT_SETTLED: u64 = u64::MAX;

struct Slot {
    /// `NO_STATE`, or `(held_view + 1) << 1 | is_primary`.
    authority: AtomicU64,
    /// `NOT_SETTLED`, or the view the manager is settled in.
    settled: AtomicU64,
    down: AtomicBool,
}

pub(super) struct ManagerBoard {
    slots: Vec<Slot>,
}

/// A manager's posted authority: its held view and whether it is the primary.
type Authority = Option<(View, bool)>;

impl ManagerBoard {
    pub(super) fn new(managers: usize) -> ManagerBoard {
        let slots = (0..managers)
            .map(|_| Slot {
                authority: AtomicU64::new(NO_STATE),
                settled: AtomicU64::new(NOT_SETTLED),
                down: AtomicBool::new(false),
            })
            .collect();
        ManagerBoard { slots }
    }

    pub(super) fn publish<M: SimManager>(&self, index: usize, manager: &M, down: bool) {
        let slot = &self.slots[index];
        let authority = match manager.authority() {
            None => NO_STATE,
            Some((view, is_primary)) => ((view.0 + 1) << 1) | u64::from(is_primary),
        };
        slot.authority.store(authority, Ordering::SeqCst);
        let settled = manager.settled_view().map_or(NOT_SETTLED, |view| view.0);
        slot.settled.store(settled, Ordering::SeqCst);
        slot.down.store(down, Ordering::SeqCst);
    }

    fn authority(&self, index: usize) -> Authority {
        match self.slots[index].authority.load(Ordering::SeqCst) {
            NO_STATE => None,
            packed => Some((View((packed >> 1) - 1), packed & 1 == 1)),
        }
    }

    fn is_down(&self, index: usize) -> bool {
        self.slots[index].down.load(Ordering::SeqCst)
    }

    /// The live manager that is primary now; mid-failover, the one holding the newest
    /// state.
    pub(super) fn primary(&self) -> Option<usize> {
        (0..self.slots.len())
            .filter(|&index| !self.is_down(index))
            .filter_map(|index| {
                let (view, is_primary) = self.authority(index)?;
                Some(((is_primary, view), std::cmp::Reverse(index)))
            })
            .max()
            .map(|(_, std::cmp::Reverse(index))| index)
    }

    /// The live manager that is not the primary.
    pub(super) fn backup(&self) -> Option<usize> {
        let primary = self.primary();
        (0..self.slots.len()).find(|&index| !self.is_down(index) && Some(index) != primary)
    }

    /// Whether crashing manager `index` keeps the system's state: every other manager
    /// is up and holds state at least as new.
    pub(super) fn may_crash<M: SimManager>(&self, index: usize, manager: &M) -> bool {
        let held_view = manager.authority().map(|(view, _)| view);
        let others = (0..self.slots.len())
            .filter(|&other| other != index)
            .map(|other| match self.is_down(other) {
                true => None,
                false => self.authority(other).map(|(view, _)| view),
            });
        crash_keeps_state(held_view, others)
    }

    /// Waits until a live manager is primary and every live manager is settled in
    /// its view; false on timeout.
    pub(super) fn wait_until_settled(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let mut views = (0..self.slots.len())
                .filter(|&index| !self.is_down(index))
                .map(|index| self.slots[index].settled.load(Ordering::SeqCst));
            let first = views.next();
            let has_primary = (0..self.slots.len())
                .any(|index| !self.is_down(index) && self.authority(index).is_some_and(|a| a.1));
            let settled = has_primary
                && first
                    .is_some_and(|first| first != NOT_SETTLED && views.all(|view| view == first));
            if settled {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
