//! Sans-IO core of Ivy, the shared virtual memory of Li and Hudak ("Memory Coherence
//! in Shared Virtual Memory Systems", ACM TOCS 1989).
//!
//! This crate holds everything the managers and drivers share, in five groups:
//!
//! - [`protocol`]: newtype ids, the protocol's one [`Message`] enum, page contents and
//!   access rights, the manager's [`Directory`], the [`Node`] trait every node
//!   implements (with its named timers) and the [`Process`] state machine;
//! - [`checks`]: the coherence invariant ([`check_coherence`]), operation histories
//!   and their linearizability checker, and the oracle of lost state;
//! - [`replication`]: what only the replicated managers use: log entries, viewstamps
//!   and snapshots;
//! - [`driver`]: the driver kit every driver shares besides moving bytes (clients,
//!   the fault schedule and kill book, failover clocks, lost-state analysis, trace
//!   rows, the final check);
//! - [`sim`]: the deterministic simulator; and [`workload`]: seeded workloads.
//!
//! The most used items are re-exported at the root. It does no I/O, starts no threads
//! and never reads a clock: time is logical ticks given by the driver.

#![warn(missing_docs)]

pub mod checks;
pub mod driver;
pub mod protocol;
pub mod replication;
pub mod sim;
pub mod workload;

pub use checks::authority::{PageAuthority, Sharded};
pub use checks::held_state::{ActedOn, UnheldState};
pub use checks::history::{
    check_linearizable, HistoryEntry, LinearizabilityViolation, OrderConflict,
};
pub use checks::invariants::{check_coherence, check_page_coherence, CoherenceViolation};
pub use checks::process_view::ProcessView;
pub use protocol::config::{ConfigError, SystemConfig};
pub use protocol::copy_set::CopySet;
pub use protocol::directory::{ActiveFault, Directory, DirectoryView, PageRecord, Revision};
pub use protocol::ids::{Incarnation, NodeId, PageId, PageVersion, RequestId, View};
pub use protocol::manager::{settled_together, ManagerNode, NoManager};
pub use protocol::mapping::PageMapping;
pub use protocol::message::{Envelope, Message};
pub use protocol::message_kind::MessageKind;
pub use protocol::node::{earliest, Deadline, Node, NodeEvent, Outbox};
pub use protocol::operation::{Completion, Operation, OperationKind};
pub use protocol::page::{Access, PageBuffer};
pub use protocol::process::{
    PageEntry, PageTable, Process, ProcessOptions, ProcessTimer, StartError,
};
pub use protocol::process_node::ProcessNode;
pub use protocol::trace::TraceRecord;
pub use protocol::well_formed::Malformed;
pub use replication::{HeldFault, LogEntry, LogIndex, LogPosition, ManagerSnapshot, Viewstamp};
pub use workload::{OperationMix, Workload};
