//! How a process reaches its manager(s): one reliable manager, or the replicated
//! pair with a retry timeout.

use crate::protocol::config::SystemConfig;
use crate::protocol::ids::NodeId;
use serde::{Deserialize, Serialize};

/// How a process reaches its manager(s).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcessOptions {
    /// The managers; the primary of view `v` is `managers[v % managers.len()]`.
    pub managers: Vec<NodeId>,
    /// Resend an unanswered fault to the next manager after this many ticks; `None`
    /// never resends (a single, reliable manager).
    pub retry_timeout_ticks: Option<u64>,
    /// Keep a copy of a page handed over by a WriteForward, so that a repeated forward
    /// (from a manager re-driving the transaction) can be answered. Costs a page copy
    /// per ownership transfer, so only the fault-tolerant system turns it on.
    pub retain_handoff: bool,
}

impl ProcessOptions {
    /// One reliable central manager: no retries, pages moved rather than copied.
    pub fn single_manager(config: &SystemConfig) -> ProcessOptions {
        ProcessOptions {
            managers: vec![config.manager()],
            retry_timeout_ticks: None,
            retain_handoff: false,
        }
    }

    /// The two replicated managers: an unanswered fault is resent to the other one
    /// after `retry_timeout_ticks`, and handed-over pages are kept for repeated forwards.
    pub fn replicated(config: &SystemConfig, retry_timeout_ticks: u64) -> ProcessOptions {
        ProcessOptions {
            managers: vec![config.manager(), config.backup_manager()],
            retry_timeout_ticks: Some(retry_timeout_ticks),
            retain_handoff: true,
        }
    }
}
