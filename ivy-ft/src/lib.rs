//! Fault-tolerant Ivy: a primary and a backup central manager that replicate every
//! state change before acting on it, detect a silent peer by heartbeats, fence the
//! processes into a new view before taking over, and rejoin by state transfer.
//!
//! [`FtManager`] is a sans-IO [`ivy_core::Node`] like the basic central manager, and
//! reuses its per-page serializer. The design and its safety argument are in
//! `docs/fault-tolerance.md`; in short:
//!
//! - **Views.** The primary of view `v` is manager `processes + v % 2`. Processes
//!   ignore commands from views older than the one they promised.
//! - **Replicate before acting.** The primary appends each change (an admitted fault,
//!   a confirmed transaction) to a log and sends it to the backup in batches; a
//!   transaction's forwards and invalidations never leave a node before the backup
//!   holds the entry that began it (the backup sends them itself once it applied it).
//! - **Fencing.** A manager takes over (or serves alone) only after every process
//!   promised its new view and none reported obeying a view newer than the state it
//!   holds: Paxos phase 1 with the processes as acceptors. No clock is trusted.
//! - **Rejoining.** A blank or stale manager asks for a snapshot and follows as backup;
//!   the original primary takes its role back by an explicit hand-over.
//!
//! The manager's role is one enum whose variants own their data (`Recovering`,
//! `Backup(replica)`, `Fencing(replica, fence, leader)`, `Primary(replica, leader)`),
//! changed only by the transitions in `manager.rs`. The data modules (`manager`,
//! `leading`, `fence`, `link`, `backoff`, `options`) import no behaviour; each
//! behaviour module adds one concern's handlers to [`FtManager`]: `serving` (process
//! requests), `fencing` (establishing a view), `follower` (the backup's side:
//! replication, snapshots, hand-over), `replicating` (the primary's side), `timers`
//! (named timers and what each does) and `node` (the driver interfaces).

#![warn(missing_docs)]

mod applying;
mod backoff;
mod fence;
mod fencing;
mod follower;
mod leading;
mod link;
mod manager;
mod node;
mod options;
mod replicating;
mod serving;
mod timers;

pub use manager::{FtManager, RoleKind};
pub use options::FtOptions;
pub use timers::FtTimer;
