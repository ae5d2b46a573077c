//! The protocol: ids, the system's size, operations, the one [`message::Message`]
//! enum, page contents and access rights, copy sets, the manager's directory, how a
//! fixed distributed manager divides the pages ([`mapping`]), the
//! [`node::Node`] trait every node implements (with its named timers) and the
//! [`process::Process`] state machine. Manager state machines live in `ivy-basic` and
//! `ivy-ft`; what the replicated managers log and send each other is in
//! [`crate::replication`].

pub mod config;
pub mod copy_set;
pub mod directory;
pub mod ids;
pub mod manager;
pub mod mapping;
pub mod message;
pub mod message_kind;
pub mod node;
pub mod operation;
pub mod page;
pub mod process;
pub mod process_node;
pub mod trace;
pub mod well_formed;
