//! Fault-tolerant Ivy: a primary and a backup central manager with views, replication
//! before action, heartbeats and failover (see `DESIGN.md`, section 4).
//!
//! Not built yet: this crate is the place for the replicated managers of the
//! fault-tolerance issue. It reuses the process state machine of `ivy-core`, whose
//! messages already carry views, request ids and page versions, and the page
//! serialisation of `ivy-basic`.
