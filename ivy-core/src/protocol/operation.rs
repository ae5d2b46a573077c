//! What a process is asked to do and what it reports when done: operations on
//! shared pages and their completions.

use crate::protocol::ids::{NodeId, PageId, RequestId};
use serde::{Deserialize, Serialize};

/// Whether an operation reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    /// A read of the page's value.
    Read,
    /// A write of a new value.
    Write,
}

/// An operation a process performs on shared memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    /// Read the value stored in `page`.
    Read {
        /// The page read.
        page: PageId,
    },
    /// Store `value` into `page`.
    Write {
        /// The page written.
        page: PageId,
        /// The value stored; unique per write in a run.
        value: u64,
    },
}

impl Operation {
    /// A read of `page`.
    pub fn read(page: u32) -> Operation {
        Operation::Read { page: PageId(page) }
    }

    /// A write of `value` into `page`.
    pub fn write(page: u32, value: u64) -> Operation {
        Operation::Write {
            page: PageId(page),
            value,
        }
    }

    /// The page the operation touches.
    pub fn page(&self) -> PageId {
        match self {
            Operation::Read { page } | Operation::Write { page, .. } => *page,
        }
    }

    /// Read or write.
    pub fn kind(&self) -> OperationKind {
        match self {
            Operation::Read { .. } => OperationKind::Read,
            Operation::Write { .. } => OperationKind::Write,
        }
    }
}

/// A finished operation, reported by the process that performed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The process that performed it.
    pub process: NodeId,
    /// Read or write.
    pub kind: OperationKind,
    /// The page touched.
    pub page: PageId,
    /// The value read, or the value written.
    pub value: u64,
    /// The fault that served it, or `None` for a local hit (no messages).
    pub fault: Option<RequestId>,
}

impl Completion {
    /// `process` finished `operation`, reading or writing `value`, served by `fault`
    /// (`None`: a local hit).
    pub fn of(
        process: NodeId,
        operation: Operation,
        value: u64,
        fault: Option<RequestId>,
    ) -> Completion {
        Completion {
            process,
            kind: operation.kind(),
            page: operation.page(),
            value,
            fault,
        }
    }
}
