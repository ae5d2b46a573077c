//! The lines `ivy node` writes on its standard output, one JSON object each, and
//! `ivy cluster` reads: `{"node": N, "report": KIND, ...}` with the fields of that
//! kind. One flat type for writing and reading, so that the launcher parses a line
//! straight into it (parsing every line into a generic JSON value first cost more
//! than the read it reported).

use ivy_core::{HistoryEntry, ManagerSnapshot, NodeEvent, NodeId, Process, TraceRecord};
use ivy_net::NodeCounts;
use serde::{Deserialize, Serialize};

/// What a line reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// An operation of this process completed: `entry`.
    Completed,
    /// This process completed all its operations.
    Done,
    /// This process holds before issuing `request`, until told `go`.
    Issuing,
    /// This manager, primary of `view`, completed its first fault in it, `at`.
    Served,
    /// This manager changed role or view: `event`, `at`.
    Event,
    /// This node handled a message: `record`, `at` (with `--trace`).
    Handled,
    /// This manager's status: `primary`, `settled_view`, in answer to `query`.
    Status,
    /// The node's final state: `process` or `snapshot` (none: a blank manager), and
    /// its `counts`.
    Final,
}

/// One line. Times (`at`) are nanoseconds on the machine's monotonic clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportLine {
    /// The node reporting.
    pub node: u32,
    /// What it reports.
    pub report: ReportKind,
    /// A completed operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<HistoryEntry>,
    /// A request a process holds before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<u64>,
    /// The view a manager served its first fault in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<u64>,
    /// When it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
    /// A manager's change of role or view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<NodeEvent>,
    /// A handled message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<TraceRecord>,
    /// Whether the manager is an established primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    /// The view the manager has nothing left to do in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_view: Option<u64>,
    /// The status query this line answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<u64>,
    /// A process's final state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Box<Process>>,
    /// A manager's final state (absent for a blank manager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Box<ManagerSnapshot>>,
    /// What the node counted, in its final line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<NodeCounts>,
}

impl ReportLine {
    /// A line of `kind` from node `id`, with no fields yet.
    pub fn new(id: NodeId, report: ReportKind) -> ReportLine {
        ReportLine {
            node: id.0,
            report,
            entry: None,
            request: None,
            view: None,
            at: None,
            event: None,
            record: None,
            primary: None,
            settled_view: None,
            query: None,
            process: None,
            snapshot: None,
            counts: None,
        }
    }
}
