//! Sans-IO core of Ivy, the shared virtual memory of Li and Hudak ("Memory Coherence
//! in Shared Virtual Memory Systems", ACM TOCS 1989).
//!
//! This crate holds everything the managers and drivers share: newtype ids, the
//! protocol's one [`Message`] enum, page contents and access rights, the [`Process`]
//! state machine, the [`Node`] trait every node implements, the coherence invariant
//! ([`check_coherence`]), operation histories and their linearizability checker, seeded
//! workloads, and the deterministic [`sim`]ulator. It does no I/O, starts no threads and
//! never reads a clock: time is logical ticks given by the driver.

#![warn(missing_docs)]

pub mod config;
pub mod copy_set;
pub mod directory;
pub mod held_state;
pub mod history;
pub mod ids;
pub mod invariants;
pub mod message;
pub mod node;
pub mod page;
pub mod process;
pub mod replication;
pub mod sim;
pub mod trace;
pub mod workload;

pub use config::{ConfigError, SystemConfig};
pub use copy_set::CopySet;
pub use directory::{ActiveFault, Directory, DirectoryView, PageRecord};
pub use held_state::{ActedOn, UnheldState};
pub use history::{check_linearizable, HistoryEntry, LinearizabilityViolation, OrderConflict};
pub use ids::{Incarnation, NodeId, PageId, PageVersion, RequestId, View};
pub use invariants::{check_coherence, check_page_coherence, CoherenceViolation};
pub use message::{Envelope, Message, MessageKind};
pub use node::{earliest, Completion, Deadline, Node, NodeEvent, Operation, OperationKind, Outbox};
pub use page::{Access, PageBuffer};
pub use process::{PageEntry, Process, ProcessOptions, ProcessTimer, StartError};
pub use replication::{HeldFault, LogEntry, LogIndex, LogPosition, ManagerSnapshot, Viewstamp};
pub use trace::TraceRecord;
pub use workload::{OperationMix, Workload};
