//! What the simulator may do to a run besides delivering messages in a random order:
//! let time pass, lose and duplicate messages, and crash, pause and revive managers.

/// How often the simulator injects each kind of fault, in events per thousand steps,
/// during the first `until_step` steps. After that the run must finish on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultOptions {
    /// Chance per thousand steps that the step is a tick of time (0: time never
    /// passes, as with one reliable manager).
    pub tick_per_mille: u32,
    /// Chance per thousand deliveries that the message is lost instead.
    pub drop_per_mille: u32,
    /// Chance per thousand deliveries that the message is also kept to arrive again.
    pub duplicate_per_mille: u32,
    /// Chance per thousand steps that a manager crashes: any manager that is not down,
    /// at any step, whatever the other holds.
    pub crash_per_mille: u32,
    /// Chance per thousand steps that a manager pauses (keeps its state, handles
    /// nothing) for a while.
    pub pause_per_mille: u32,
    /// Chance per thousand steps that the managers stop hearing each other for a
    /// while (up to `outage_steps`): both keep running and reach every process, and
    /// their messages to each other wait.
    pub partition_per_mille: u32,
    /// Chance per thousand changes of a manager's phase (see [`crate::ManagerNode::phase`]:
    /// it starts fencing, takes its role back, becomes blank or primary) that it or
    /// its peer crashes at that very step: the rare instants, tried on purpose.
    pub transition_crash_per_mille: u32,
    /// The most steps a crashed manager stays down or a paused one stays paused.
    pub outage_steps: u64,
    /// No faults are injected from this step on.
    pub until_step: u64,
}

impl FaultOptions {
    /// A perfect network and no crashes, and time that never passes.
    pub fn none() -> FaultOptions {
        FaultOptions {
            tick_per_mille: 0,
            drop_per_mille: 0,
            duplicate_per_mille: 0,
            crash_per_mille: 0,
            pause_per_mille: 0,
            partition_per_mille: 0,
            transition_crash_per_mille: 0,
            outage_steps: 0,
            until_step: 0,
        }
    }

    /// Whether the simulator lets time pass.
    pub fn has_time(&self) -> bool {
        self.tick_per_mille > 0
    }
}

/// Whether a manager is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManagerStatus {
    /// Handling messages and ticks.
    Up,
    /// Keeping its state but handling nothing until the step given; messages to it
    /// wait.
    Paused {
        /// The step at which it resumes.
        until_step: u64,
    },
    /// Crashed; messages to it are lost. It restarts blank at the step given.
    Down {
        /// The step at which it restarts.
        until_step: u64,
    },
}

/// A fault the simulator injects at a chosen step (for schedules that a property test
/// generates and shrinks), in addition to the random ones of [`FaultOptions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptedFault {
    /// Crash manager `index` (0: the original primary), unless it is down already;
    /// it restarts blank, as a new incarnation, `down_steps` later.
    Crash {
        /// Which manager.
        index: usize,
        /// For how many steps it stays down.
        down_steps: u64,
    },
    /// Pause manager `index` for `steps` steps.
    Pause {
        /// Which manager.
        index: usize,
        /// For how many steps.
        steps: u64,
    },
}
