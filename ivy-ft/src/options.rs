//! Timing of the fault-tolerant managers, in logical ticks.

/// How often the managers talk and how long they wait. The threaded runtime makes one
/// tick a millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FtOptions {
    /// The primary sends the backup a heartbeat (or its unacknowledged entries) this
    /// often; a fencing manager resends `NewView` this often.
    pub heartbeat_ticks: u64,
    /// A manager that hears nothing from its peer for longer than this takes over
    /// (a backup) or goes on alone (a primary), after fencing the processes.
    pub failover_timeout_ticks: u64,
    /// The primary resends a transaction's commands when it has not completed for this
    /// long (a message was lost, or a process answered a manager that is gone).
    pub redrive_ticks: u64,
    /// Whether a primary that is not the original one hands the role back once the
    /// original manager has rejoined and caught up.
    pub hand_back: bool,
}

impl Default for FtOptions {
    /// Heartbeat 10 ticks, failover after 50, re-drive after 40, hand back.
    fn default() -> FtOptions {
        FtOptions {
            heartbeat_ticks: 10,
            failover_timeout_ticks: 50,
            redrive_ticks: 40,
            hand_back: true,
        }
    }
}
