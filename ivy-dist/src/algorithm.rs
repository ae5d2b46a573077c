//! Which owner-side algorithm a process follows: where it sends a fault.

use ivy_core::NodeId;

/// Where a process sends its faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// To the manager, which forwards the fault to the owner it records (and records
    /// a writer as the new owner).
    ImprovedCentral {
        /// The manager's node.
        manager: NodeId,
    },
    /// To the page's probable owner, which serves it if it owns the page and forwards
    /// it along its own hint otherwise.
    Dynamic,
    /// As [`Algorithm::Dynamic`], with the paper's distributed copy sets: a process
    /// holding a read copy serves read requests from it (the reader joins *its*
    /// copy set), so a page's copies form a tree under its owner, and an
    /// invalidation travels down the tree, each holder confirming once its subtree
    /// has.
    DynamicCopyTree,
    /// To every other process: the owner serves it; a process that does not own the
    /// page keeps it until it does (or hears a newer fault of that process).
    Broadcast,
}

impl Algorithm {
    /// Whether processes follow probable owners (the dynamic algorithms).
    pub fn follows_hints(self) -> bool {
        matches!(self, Algorithm::Dynamic | Algorithm::DynamicCopyTree)
    }

    /// The manager of the improved central algorithm, if this is it.
    pub fn manager(self) -> Option<NodeId> {
        match self {
            Algorithm::ImprovedCentral { manager } => Some(manager),
            Algorithm::Dynamic | Algorithm::DynamicCopyTree | Algorithm::Broadcast => None,
        }
    }
}
