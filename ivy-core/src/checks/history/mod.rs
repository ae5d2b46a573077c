//! Operation histories and their linearizability checker.
//!
//! Every page is an independent read/write register that starts holding 0. A driver
//! records one [`HistoryEntry`] per completed operation, and [`check_linearizable`]
//! decides whether, on every page, some total order of the operations respects
//! real-time precedence and makes every read return the value of the latest write
//! before it (Herlihy & Wing, "Linearizability", ACM TOPLAS 1990). Operation `a`
//! precedes `b` when `a` completes strictly before `b` is invoked; equal times are
//! concurrent.
//!
//! The workload writes values unique in the whole history, so a read names the write
//! it saw and the check takes O(n log n) time per page instead of a search over
//! orders (Gibbons & Korach, "Testing Shared Memories", SIAM J. Comput. 1997). The
//! test suite compares it with such a search.
//!
//! # Why the zone conditions decide linearizability
//!
//! The *cluster* of a value is its write and the reads that returned it; the initial
//! value 0 has a virtual write that completes before time begins. In a legal
//! sequential run of a register with unique values each cluster is a contiguous
//! block that starts with its write, and the initial cluster comes first. So a page
//! is linearizable exactly when
//!
//! 1. every read's value was written on that page (or is the initial 0),
//! 2. no read precedes its own write, and
//! 3. the clusters can be ordered so that cluster `X` comes before `Y` whenever some
//!    operation of `X` precedes some operation of `Y`; within a cluster the write
//!    goes first (allowed by 2.) and the reads follow in any order respecting
//!    precedence (which is acyclic).
//!
//! Let `f(X)` be the earliest completion in `X` and `s(X)` its latest invocation;
//! `f` of the initial cluster is before every time, so it precedes every other
//! cluster. Then "some operation of `X` precedes some operation of `Y`" is
//! `f(X) < s(Y)`, and condition 3 holds exactly when this relation between distinct
//! clusters has no cycle. Any cycle contains a cycle of two: if `X` has the least
//! `f` on it, then `f(X) <= f(W) < s(Y)` for every `Y` on it with predecessor `W`,
//! so `X` precedes every cluster of the cycle, including the one preceding `X`.
//!
//! So the page is linearizable exactly when 1. and 2. hold and no two clusters
//! conflict, `f(X) < s(Y)` and `f(Y) < s(X)`. Call `[f, s]` a *forward
//! zone* when `f < s` and `[s, f]` a *backward zone* otherwise. Two backward zones
//! never conflict (`s(X) <= f(X) < s(Y) <= f(Y) < s(X)` is impossible); two forward
//! zones conflict exactly when their interiors intersect; and a backward zone `Y`
//! conflicts with a forward zone `X` exactly when `f(X) < s(Y) <= f(Y) < s(X)`,
//! that is, when it lies strictly inside it. Zones that merely touch at an endpoint
//! do not conflict, because equal times are concurrent. These are the conditions of
//! Gibbons & Korach with the strictness made exact.

#[cfg(test)]
mod tests;

use crate::protocol::ids::{NodeId, PageId};
use crate::protocol::operation::{Completion, OperationKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// One completed operation. Times are in the driver's unit (nanoseconds in the
/// threaded runtime, steps in the simulator); only their order matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The process that performed the operation.
    pub process: NodeId,
    /// Read or write.
    pub op: OperationKind,
    /// The page (register) touched.
    pub page: PageId,
    /// The value read, or the value written.
    pub value: u64,
    /// When the operation was invoked.
    pub invoked_at: u64,
    /// When the operation completed; never before `invoked_at`.
    pub completed_at: u64,
}

impl HistoryEntry {
    /// The entry of a completed operation invoked at `invoked_at` and completed at
    /// `completed_at`, in the driver's unit of time: the one conversion every driver
    /// uses.
    pub fn of(completion: &Completion, invoked_at: u64, completed_at: u64) -> HistoryEntry {
        HistoryEntry {
            process: completion.process,
            op: completion.kind,
            page: completion.page,
            value: completion.value,
            invoked_at,
            completed_at,
        }
    }

    /// Whether this operation precedes `other` in real time: it completed strictly
    /// before `other` was invoked. Operations with equal times are concurrent.
    pub fn precedes(&self, other: &HistoryEntry) -> bool {
        self.completed_at < other.invoked_at
    }
}

impl fmt::Display for HistoryEntry {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.op {
            OperationKind::Read => "read",
            OperationKind::Write => "write",
        };
        write!(
            formatter,
            "process {} {kind} {} at [{}, {}]",
            self.process, self.value, self.invoked_at, self.completed_at
        )
    }
}

/// Why a history is not linearizable (or cannot be checked).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinearizabilityViolation {
    /// An operation completed before it was invoked: the driver recorded it wrongly.
    #[error("page {}: {entry} completes before it is invoked", .entry.page)]
    InvalidInterval {
        /// The malformed entry.
        entry: HistoryEntry,
    },
    /// A write stored 0, the initial value, so its reads cannot be told apart.
    #[error("page {}: {entry} writes the initial value 0", .entry.page)]
    WriteOfZero {
        /// The write of 0.
        entry: HistoryEntry,
    },
    /// Two writes to one page stored the same value, so a read does not name its write.
    #[error("page {}: {first} and {second} write the same value", .first.page)]
    DuplicateWrite {
        /// The first of the two writes in the history.
        first: HistoryEntry,
        /// The second.
        second: HistoryEntry,
    },
    /// A read returned a value that no write stored on that page.
    #[error("page {}: {read} returns a value never written to the page", .read.page)]
    UnwrittenValue {
        /// The read.
        read: HistoryEntry,
    },
    /// A read completed before the write of its value was invoked.
    #[error("page {}: {read} completes before {write}, the write of its value", .read.page)]
    ReadBeforeWrite {
        /// The read.
        read: HistoryEntry,
        /// The write of the value it returned.
        write: HistoryEntry,
    },
    /// A read returned the initial 0 although an operation on a later value (its write,
    /// or a read that saw it) had completed before the read was invoked.
    #[error("page {}: {read} returns the initial 0 after {earlier} completed", .read.page)]
    StaleInitialRead {
        /// The read of 0.
        read: HistoryEntry,
        /// An operation on a written value that completed before `read` was invoked.
        earlier: HistoryEntry,
    },
    /// The clusters of two written values (each write with the reads that saw it)
    /// must each be ordered before the other. Boxed to keep the error small.
    #[error("{0}")]
    ConflictingOrder(Box<OrderConflict>),
}

/// Operations showing that the clusters of two written values `a` and `b` must each
/// be ordered before the other: `a_done` precedes `b_started`, and `b_done` precedes
/// `a_started`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct OrderConflict {
    /// An operation on value `a` that completed before `b_started` was invoked.
    pub a_done: HistoryEntry,
    /// An operation on value `b`.
    pub b_started: HistoryEntry,
    /// An operation on value `b` that completed before `a_started` was invoked.
    pub b_done: HistoryEntry,
    /// An operation on value `a`.
    pub a_started: HistoryEntry,
}

impl fmt::Display for OrderConflict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "page {}: values {} and {} must each come before the other: {} precedes {}, \
             and {} precedes {}",
            self.a_done.page,
            self.a_done.value,
            self.b_done.value,
            self.a_done,
            self.b_started,
            self.b_done,
            self.a_started
        )
    }
}

/// Checks that the history is linearizable, page by page (linearizability is local:
/// a history is linearizable exactly when each page's subhistory is). The entries
/// may come in any order. Every write must store a nonzero value no other write to
/// its page stores.
pub fn check_linearizable(entries: &[HistoryEntry]) -> Result<(), LinearizabilityViolation> {
    let mut pages: BTreeMap<PageId, Vec<HistoryEntry>> = BTreeMap::new();
    for entry in entries {
        if entry.invoked_at > entry.completed_at {
            return Err(LinearizabilityViolation::InvalidInterval { entry: *entry });
        }
        pages.entry(entry.page).or_default().push(*entry);
    }
    pages
        .values()
        .try_for_each(|operations| check_page(operations))
}

/// The operations that saw one value: its write and the reads that returned it.
struct Cluster {
    /// The write of the value, or `None` for the initial 0, whose virtual write
    /// completes before time begins.
    write: Option<HistoryEntry>,
    /// The operation that completes first. Unused for the initial value's cluster,
    /// whose virtual write completes before all of them.
    first_completed: HistoryEntry,
    /// The operation that is invoked last.
    last_invoked: HistoryEntry,
}

impl Cluster {
    fn new(write: Option<HistoryEntry>, first: HistoryEntry) -> Cluster {
        Cluster {
            write,
            first_completed: first,
            last_invoked: first,
        }
    }

    fn add(&mut self, entry: HistoryEntry) {
        if entry.completed_at < self.first_completed.completed_at {
            self.first_completed = entry;
        }
        if entry.invoked_at > self.last_invoked.invoked_at {
            self.last_invoked = entry;
        }
    }

    /// `f`: the earliest completion; `None`, before every time, for the initial value.
    fn min_completed_at(&self) -> Option<u64> {
        self.write.map(|_| self.first_completed.completed_at)
    }

    /// `s`: the latest invocation.
    fn max_invoked_at(&self) -> u64 {
        self.last_invoked.invoked_at
    }

    /// Whether some operation of this cluster precedes one of `other`, which forces
    /// this cluster before `other` in every linearization.
    fn must_precede(&self, other: &Cluster) -> bool {
        self.min_completed_at() < Some(other.max_invoked_at())
    }

    /// Whether the cluster's zone is a forward zone, `f < s`.
    fn is_forward(&self) -> bool {
        self.must_precede(self)
    }
}

/// Checks one page's operations, all on the same page.
fn check_page(operations: &[HistoryEntry]) -> Result<(), LinearizabilityViolation> {
    let clusters = build_clusters(operations)?;
    let mut forward: Vec<&Cluster> = clusters.iter().filter(|c| c.is_forward()).collect();
    forward.sort_by_key(|cluster| cluster.min_completed_at());
    check_forward_zones_disjoint(&forward)?;
    for backward in clusters.iter().filter(|cluster| !cluster.is_forward()) {
        check_backward_zone_outside(backward, &forward)?;
    }
    Ok(())
}

/// Groups a page's operations into clusters, checking conditions 1 and 2 and the
/// uniqueness of written values on the way.
fn build_clusters(operations: &[HistoryEntry]) -> Result<Vec<Cluster>, LinearizabilityViolation> {
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut cluster_of_value: HashMap<u64, usize> = HashMap::new();
    let writes = operations.iter().filter(|e| e.op == OperationKind::Write);
    for write in writes {
        if write.value == 0 {
            return Err(LinearizabilityViolation::WriteOfZero { entry: *write });
        }
        if let Some(&index) = cluster_of_value.get(&write.value) {
            let first = clusters[index]
                .write
                .expect("a written value's cluster has its write");
            return Err(LinearizabilityViolation::DuplicateWrite {
                first,
                second: *write,
            });
        }
        cluster_of_value.insert(write.value, clusters.len());
        clusters.push(Cluster::new(Some(*write), *write));
    }
    let mut initial: Option<Cluster> = None;
    for read in operations.iter().filter(|e| e.op == OperationKind::Read) {
        if read.value == 0 {
            match initial.as_mut() {
                Some(cluster) => cluster.add(*read),
                None => initial = Some(Cluster::new(None, *read)),
            }
            continue;
        }
        let Some(&index) = cluster_of_value.get(&read.value) else {
            return Err(LinearizabilityViolation::UnwrittenValue { read: *read });
        };
        let write = clusters[index]
            .write
            .expect("a written value's cluster has its write");
        if read.precedes(&write) {
            return Err(LinearizabilityViolation::ReadBeforeWrite { read: *read, write });
        }
        clusters[index].add(*read);
    }
    clusters.extend(initial);
    Ok(clusters)
}

/// Checks that no two forward zones overlap, given the zones sorted by start `f`.
/// Neighbours suffice: if no neighbours overlap, each zone ends at or before the next
/// one starts, so the zones are pairwise disjoint.
fn check_forward_zones_disjoint(forward: &[&Cluster]) -> Result<(), LinearizabilityViolation> {
    for pair in forward.windows(2) {
        let (earlier, later) = (pair[0], pair[1]);
        // f(earlier) <= f(later) < s(later), so `earlier` must precede `later`.
        assert!(earlier.must_precede(later));
        if later.must_precede(earlier) {
            return Err(conflict(earlier, later));
        }
    }
    Ok(())
}

/// Checks that a backward zone lies strictly inside no forward zone, given disjoint
/// forward zones sorted by start. Only the last forward zone starting strictly before
/// the backward zone can contain it: every earlier one ends at or before that start.
fn check_backward_zone_outside(
    backward: &Cluster,
    forward: &[&Cluster],
) -> Result<(), LinearizabilityViolation> {
    let starting_before = forward.partition_point(|zone| zone.must_precede(backward));
    let Some(last) = starting_before.checked_sub(1) else {
        return Ok(());
    };
    let enclosing = forward[last];
    if backward.must_precede(enclosing) {
        return Err(conflict(enclosing, backward));
    }
    Ok(())
}

/// Explains why two clusters, each of which must precede the other, cannot both be
/// ordered: picks the operations witnessing either precedence.
fn conflict(a: &Cluster, b: &Cluster) -> LinearizabilityViolation {
    assert!(a.must_precede(b) && b.must_precede(a));
    let (initial, later) = match (a.write, b.write) {
        (Some(_), Some(_)) => {
            assert!(a.first_completed.precedes(&b.last_invoked));
            assert!(b.first_completed.precedes(&a.last_invoked));
            return LinearizabilityViolation::ConflictingOrder(Box::new(OrderConflict {
                a_done: a.first_completed,
                b_started: b.last_invoked,
                b_done: b.first_completed,
                a_started: a.last_invoked,
            }));
        }
        (None, _) => (a, b),
        (_, None) => (b, a),
    };
    assert!(later.first_completed.precedes(&initial.last_invoked));
    LinearizabilityViolation::StaleInitialRead {
        read: initial.last_invoked,
        earlier: later.first_completed,
    }
}
