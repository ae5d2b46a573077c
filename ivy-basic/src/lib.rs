//! The central manager of Ivy (Li & Hudak, section 3.1) as a sans-IO state machine.
//!
//! [`PageSerializer`] keeps the directory (owner and copy set of every page) and
//! serialises the faults on each page: a page is held from the request until its
//! confirmation, later requests for it queue, and different pages proceed in parallel.
//! [`CentralManager`] is the [`ivy_core::Node`] that drives it: it sends the forwards
//! and invalidations a transaction needs as soon as the transaction begins. The
//! fault-tolerant managers reuse the serializer and replicate each step first; the
//! fixed distributed manager ([`FixedNode`]) runs one per share of the pages.

#![warn(missing_docs)]

mod fixed;
mod manager;
mod serializer;

pub use fixed::FixedNode;
pub use manager::CentralManager;
pub use serializer::{Admission, Completed, PageSerializer, Transaction};
