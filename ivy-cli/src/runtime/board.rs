//! A board where each manager's worker posts its status after every input, so that
//! the runtime can pick the manager a kill names, tell whether a waiting kill may
//! happen, and see when the managers have settled.
//!
//! Every manager's initial status is posted before any worker starts. Kills and
//! revivals are decided by the runtime (under its kill lock), which marks the manager
//! down or up here at once; a kill also starts a new generation of the slot, so that
//! a status the worker posts before it has carried the crash out is ignored.

use super::RuntimeManager;
use ivy_core::{settled_together, LogPosition, View};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a manager last posted, and whether the runtime has it down.
#[derive(Clone, Copy, Debug, Default)]
struct Status {
    /// `None` when it holds no state; else its held view and whether it is primary.
    authority: Option<(View, bool)>,
    /// How far its log reaches, and the view whose log it follows.
    reach: Option<LogPosition>,
    log_view: Option<View>,
    /// The view it is settled in, if any.
    settled: Option<View>,
    down: bool,
    /// How many kills of this manager the runtime has decided.
    generation: u64,
}

/// How long no live manager may appear to hold state before the runtime stops
/// waiting for the managers to settle.
const HOPELESS_GRACE: Duration = Duration::from_millis(250);

pub(super) struct ManagerBoard {
    slots: Vec<Mutex<Status>>,
}

impl ManagerBoard {
    /// A board holding every manager's initial status.
    pub(super) fn new<M: RuntimeManager>(managers: &[M]) -> ManagerBoard {
        let slots = managers
            .iter()
            .map(|manager| {
                let mut status = Status::default();
                status.post(manager);
                Mutex::new(status)
            })
            .collect();
        ManagerBoard { slots }
    }

    fn slot(&self, index: usize) -> MutexGuard<'_, Status> {
        self.slots[index].lock().expect("no panics while locked")
    }

    /// Posts the status of manager `index`, as of the `generation`-th kill decided
    /// for it: ignored if a later kill is decided but not yet carried out.
    pub(super) fn publish<M: RuntimeManager>(&self, index: usize, generation: u64, manager: &M) {
        let mut slot = self.slot(index);
        if slot.generation == generation {
            slot.post(manager);
        }
    }

    /// Marks manager `index` crashed: down, blank, in a new generation.
    pub(super) fn mark_down(&self, index: usize) {
        let mut slot = self.slot(index);
        let generation = slot.generation + 1;
        *slot = Status {
            down: true,
            generation,
            ..Status::default()
        };
    }

    /// Marks manager `index` revived (it restarts blank).
    pub(super) fn mark_up(&self, index: usize) {
        self.slot(index).down = false;
    }

    /// How many kills of manager `index` have been decided.
    pub(super) fn generation(&self, index: usize) -> u64 {
        self.slot(index).generation
    }

    pub(super) fn is_down(&self, index: usize) -> bool {
        self.slot(index).down
    }

    fn live(&self) -> impl Iterator<Item = (usize, Status)> + '_ {
        (0..self.slots.len())
            .map(|index| (index, *self.slot(index)))
            .filter(|(_, status)| !status.down)
    }

    /// The live manager that is primary now; mid-failover, the one holding the newest
    /// state.
    pub(super) fn primary(&self) -> Option<usize> {
        self.live()
            .filter_map(|(index, status)| {
                let (view, is_primary) = status.authority?;
                Some(((is_primary, view), std::cmp::Reverse(index)))
            })
            .max()
            .map(|(_, std::cmp::Reverse(index))| index)
    }

    /// A live manager other than the primary, if there is one.
    pub(super) fn backup(&self) -> Option<usize> {
        let primary = self.primary();
        self.live()
            .map(|(index, _)| index)
            .find(|&index| Some(index) != primary)
    }

    /// Whether manager `index` (whose live state is `manager`) may crash without
    /// losing state: every other manager is up, its reach covers the victim's, and
    /// its log view is at least the victim's. Call under the runtime's kill lock.
    pub(super) fn may_crash<M: RuntimeManager>(&self, index: usize, manager: &M) -> bool {
        let (reach, log_view) = (manager.reach(), manager.log_view());
        let covers = |peer: Option<LogPosition>| match (peer, reach) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(peer), Some(victim)) => peer.covers(victim),
        };
        (0..self.slots.len())
            .filter(|&other| other != index)
            .all(|other| {
                let peer = *self.slot(other);
                !peer.down && covers(peer.reach) && peer.log_view >= log_view
            })
    }

    /// Waits until a live manager is primary and every live manager is settled in
    /// its view; false on timeout, or at once when no live manager holds state (none
    /// ever will again: every fault has been injected by then).
    pub(super) fn wait_until_settled(&self, timeout: Duration) -> bool {
        if self.slots.is_empty() {
            return true; // no manager node (the algorithms without one): nothing to settle
        }
        let deadline = Instant::now() + timeout;
        let mut hopeless_since: Option<Instant> = None;
        loop {
            let live: Vec<Status> = self.live().map(|(_, status)| status).collect();
            let statuses = live.iter().map(|status| (status.authority, status.settled));
            if settled_together(statuses).is_some() {
                return true;
            }
            // Workers post asynchronously: a board that looks hopeless for a moment
            // may only be behind, so it must stay hopeless for a while.
            let hopeless = live.iter().all(|status| status.authority.is_none());
            let now = Instant::now();
            hopeless_since = match hopeless {
                true => Some(hopeless_since.unwrap_or(now)),
                false => None,
            };
            let given_up = hopeless_since.is_some_and(|since| now - since >= HOPELESS_GRACE);
            if given_up || now >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Status {
    fn post<M: RuntimeManager>(&mut self, manager: &M) {
        self.authority = manager.authority();
        self.reach = manager.reach();
        self.log_view = manager.log_view();
        self.settled = manager.settled_view();
    }
}
