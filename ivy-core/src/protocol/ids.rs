//! Newtype identifiers, so that a page can never be passed where a node is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A node of the system: processes are `0..processes`, the central manager is
/// `processes` and a backup manager, where there is one, is `processes + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

/// A page of the shared address space, `0..pages`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageId(pub u32);

/// A manager view (epoch). The primary of view `v` is manager `v % 2`; a single
/// central manager always works in view 0.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct View(pub u64);

/// One life of a manager: a manager restarted after a crash is a new incarnation and
/// says so in the messages of replication, so that nothing meant for an earlier life
/// (a snapshot, an acknowledgement) is taken for this one. The driver that (re)starts a
/// manager chooses it, larger than any earlier incarnation of that manager.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Incarnation(pub u64);

/// The number of a transaction on one page: the manager gives each fault it serves on
/// a page the next version of that page. Processes remember the latest version they
/// took part in, which makes duplicated or stale protocol messages recognisable.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct PageVersion(pub u64);

/// A fault request: the process that faulted and its own sequence number (from 1).
/// A retried request keeps its id, so a manager can answer it instead of granting twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId {
    /// The faulting process: the true requester of every message of the transaction.
    pub process: NodeId,
    /// The process's own fault counter, from 1.
    pub sequence: u64,
}

impl NodeId {
    /// The id as an index into per-node tables.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl PageId {
    /// The id as an index into per-page tables.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl PageVersion {
    /// The version that follows this one.
    pub fn next(self) -> PageVersion {
        PageVersion(self.0 + 1)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

impl fmt::Display for PageId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

impl fmt::Display for View {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}#{}", self.process, self.sequence)
    }
}

impl fmt::Display for Incarnation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}
