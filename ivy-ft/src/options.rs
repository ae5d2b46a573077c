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

impl FtOptions {
    /// The one place the fault-tolerant timings are derived, used by the CLI, the
    /// benchmarks and the tests: a heartbeat every `heartbeat_ticks`, failover after
    /// `failover_timeout_ticks` of silence, a stalled transaction re-driven after four
    /// heartbeats, and the role handed back.
    ///
    /// # Panics
    ///
    /// If the heartbeat is zero or the failover timeout does not exceed it (the CLI
    /// checks its arguments first).
    pub fn with_timing(heartbeat_ticks: u64, failover_timeout_ticks: u64) -> FtOptions {
        assert!(heartbeat_ticks > 0, "a heartbeat of zero ticks");
        assert!(
            failover_timeout_ticks > heartbeat_ticks,
            "the failover timeout must exceed the heartbeat"
        );
        FtOptions {
            heartbeat_ticks,
            failover_timeout_ticks,
            redrive_ticks: 4 * heartbeat_ticks,
            hand_back: true,
        }
    }

    /// How long a process waits for an answer to its fault before it resends it to
    /// the other manager: a failover and a heartbeat, so that by then a live backup
    /// has taken over.
    pub fn process_retry_ticks(&self) -> u64 {
        self.failover_timeout_ticks + self.heartbeat_ticks
    }

    /// Ticks after which a manager's silence makes its peer act: the failover timeout
    /// passed (a peer acts once more than the timeout has gone by).
    pub fn silence_ticks(&self) -> u64 {
        self.failover_timeout_ticks + 1
    }
}

impl Default for FtOptions {
    /// Heartbeat 10 ticks, failover after 50 (see [`FtOptions::with_timing`]).
    fn default() -> FtOptions {
        FtOptions::with_timing(10, 50)
    }
}
