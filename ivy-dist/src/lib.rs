//! Li & Hudak's managers that keep a page's copy set with its owner rather than at a
//! central manager, as sans-IO state machines (no I/O, logical time, the [`ivy_core::Node`]
//! interface):
//!
//! - **improved central** ([`Algorithm::ImprovedCentral`]): the manager
//!   ([`ImprovedManager`]) keeps only each page's owner and forwards every fault to
//!   it; the copy set moves with ownership and the new owner invalidates; the page's
//!   lock lives with its owner (a request that reaches a process about to own the page
//!   waits there), so there is no confirmation: a read fault costs 3 messages, a
//!   write 3 + 2 per copy.
//! - **dynamic distributed** ([`Algorithm::Dynamic`]): no manager; every process
//!   keeps a *probable owner* per page and a fault follows those hints to the owner,
//!   each hop updating them as the paper says (see [`OwnerProcess`]).
//! - **broadcast** ([`Algorithm::Broadcast`]): no manager; a fault goes to every
//!   other process and the owner answers (N - 1 requests and one answer a read
//!   fault); a process that does not own the page keeps the request until it does,
//!   and the page carries which faults its owners served, so each is served once.
//!
//! The dynamic manager's two refinements from the paper are here too: distributed
//! copy sets ([`Algorithm::DynamicCopyTree`]), and owners that tell every process
//! they own a page now and then ([`OwnerProcess::broadcasting_ownership_every`]).
//!
//! All of them run on [`OwnerProcess`]. The coherence check reads each page's record where
//! these algorithms keep it, at its owner ([`OwnerSide`]), and checks that the
//! probable owners lead to the owner without a cycle
//! ([`ivy_core::ProcessNode::check_algorithm`]).

#![warn(missing_docs)]

mod algorithm;
mod authority;
mod broadcast;
mod copy_tree;
mod handlers;
mod manager;
mod owner_broadcast;
mod page_state;
mod process;

pub use algorithm::Algorithm;
pub use authority::{check_hints, OwnerSide};
pub use manager::ImprovedManager;
pub use process::OwnerProcess;
